// Flagger's webhook payload, built in one place for the workflow (which decides what to send) and
// the webhook activity (which sends it). Pure: importable from workflow code.

/** The JSON body Flagger POSTs; `checksum` identifies the revision. */
export interface WebhookPayload {
  name: string;
  namespace: string;
  /** The Canary phase, e.g. `Progressing`, `Succeeded`, `Failed`. */
  phase: string;
  checksum: string;
  metadata?: Record<string, string>;
  /** `event` hooks only. */
  eventMessage?: string;
  /** `event` hooks only: `Normal` or `Warning`. */
  eventType?: string;
  /** `event` hooks only: Unix milliseconds, as a string. */
  timestamp?: string;
}

/** The payload of an `event` hook: the event's text and type, stamped at `at` (Unix ms). */
export function eventWebhookPayload(input: {
  name: string;
  namespace: string;
  phase: string;
  checksum: string;
  metadata?: Record<string, string>;
  eventMessage: string;
  eventType: 'Normal' | 'Warning';
  at: number;
}): WebhookPayload {
  const { at, metadata, ...rest } = input;
  return {
    ...rest,
    ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
    timestamp: String(Math.trunc(at)),
  };
}
