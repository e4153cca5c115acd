// A fetched history holds its payloads as the server stores them: sealed, when the worker encrypts.
// `fetchHistory` does not run the client's codec, so this does, in place, before the history is read
// as steps: every payload anywhere in the events (inputs, results, failures' encoded attributes,
// signal and Update arguments, markers, memo, summaries) goes through the client's codecs in reverse
// order, as the SDK decodes. A payload whose key is not held fails with the codec's sentence.
import type { Client, Payload } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';

function isPayload(value: object): value is Payload {
  const metadata = (value as { metadata?: unknown }).metadata;
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    !ArrayBuffer.isView(metadata) &&
    Object.values(metadata).every((entry) => ArrayBuffer.isView(entry)) &&
    ArrayBuffer.isView((metadata as Record<string, unknown>).encoding)
  );
}

/** Decodes every payload reachable from `root` with `codecs`, replacing each one's fields. */
export async function decodePayloadsInPlace(root: unknown, codecs: readonly PayloadCodec[]): Promise<void> {
  if (codecs.length === 0) return;
  const seen = new WeakSet<object>();
  const found: Payload[] = [];
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || seen.has(value)) return;
    seen.add(value);
    if (isPayload(value)) {
      found.push(value);
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child);
  };
  visit(root);
  if (found.length === 0) return;
  let decoded: Payload[] = found;
  for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
  found.forEach((payload, index) => {
    const plain = decoded[index] as Payload;
    payload.metadata = plain.metadata ?? {};
    payload.data = plain.data ?? new Uint8Array();
  });
}

/** The events of a fetched history, decoded with the client's own codecs. */
export async function decodedHistoryEvents<T>(client: Client, events: T[]): Promise<T[]> {
  await decodePayloadsInPlace(events, client.options.loadedDataConverter.payloadCodecs);
  return events;
}
