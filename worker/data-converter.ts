// The data converters of the worker and of every Temporal Client Cutover makes (the worker's own, the
// CLI's): the same payload codec on both sides, so what one seals the other opens. With a key ring,
// payloads (workflow and activity inputs and results, queries, signals, Updates, memo, summaries) and
// activity failure messages are sealed with AES-256-GCM; without one they stay as they were, and an
// encrypted payload that arrives anyway fails with the key id it needs.
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { fileURLToPath } from 'node:url';
import { EncryptionCodec, KeylessCodec } from './payload-codec.ts';
import type { PayloadKeyRing } from './payload-codec.ts';

const encodedFailureConverterPath = fileURLToPath(new URL('./encoded-failure-converter.ts', import.meta.url));

export interface DataConverters {
  /** The one codec both sides share (and the codec server serves). */
  codec: PayloadCodec;
  /** For `Worker.create({ dataConverter })`. */
  worker: DataConverter;
  /** For `new Client({ dataConverter })`: the default failure converter reads encoded failures back. */
  client: DataConverter;
}

export function dataConverters(ring: PayloadKeyRing | undefined): DataConverters {
  if (!ring) {
    const codec = new KeylessCodec();
    return { codec, worker: { payloadCodecs: [codec] }, client: { payloadCodecs: [codec] } };
  }
  const codec = new EncryptionCodec(ring);
  return {
    codec,
    worker: {
      payloadCodecs: [codec],
      // Activity failures are converted on the worker's main thread with this module. Failures the
      // workflow code itself raises are converted inside the prebuilt bundle with the default
      // converter: their messages (Cutover's own words, never a Secret's value) stay readable.
      failureConverterPath: encodedFailureConverterPath,
    },
    client: { payloadCodecs: [codec] },
  };
}

/** The client's converter alone, for the CLI. */
export function clientDataConverter(ring: PayloadKeyRing | undefined): DataConverter {
  return dataConverters(ring).client;
}

/** For the start-up log: whether payloads are sealed, and with which key ids (never the keys). */
export function describeKeyRing(ring: PayloadKeyRing | undefined): Record<string, unknown> {
  if (!ring) return { payloadEncryption: 'off (no payload key configured)' };
  return {
    payloadEncryption: 'AES-256-GCM',
    payloadKeyCurrent: ring.current,
    payloadKeyIds: [...ring.keys.keys()],
  };
}
