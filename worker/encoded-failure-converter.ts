// The failure converter of a worker that encrypts payloads, loaded by the SDK from this path
// (`dataConverter.failureConverterPath`): an activity's failure message and stack trace move into a
// payload (`encodedAttributes`) that the payload codec seals, instead of sitting in the history in clear.
// Clients need nothing special: the default converter reads `encodedAttributes` back.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
