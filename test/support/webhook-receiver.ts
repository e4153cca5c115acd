// A real HTTP receiver for rollout hooks in tests: records every call and answers as told, with
// gates that behave like Flagger's loadtester (`/gate/check`, `/gate/open`, `/gate/close`,
// `/gate/approve`, `/gate/halt`, `/rollback/check|open|close`).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export interface WebhookReceiver {
  url(path: string): string;
  calls: ReceivedCall[];
  callsTo(path: string): ReceivedCall[];
  /** Answers for a path, used in order; the last one repeats. */
  respond(path: string, ...answers: { status: number; body?: string }[]): void;
  /** Answers a path with a function of the payload (it may take its time, as a real hook does). */
  handle(
    path: string,
    handler: (body: Record<string, unknown>) => Promise<{ status: number; body?: string }>,
  ): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const calls: ReceivedCall[] = [];
  const answers = new Map<string, { status: number; body?: string }[]>();
  const handlers = new Map<
    string,
    (body: Record<string, unknown>) => Promise<{ status: number; body?: string }>
  >();
  // Gates keyed like the loadtester: by canary name.namespace.
  const gates = new Map<string, boolean>();
  const rollbacks = new Map<string, boolean>();

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        // keep the empty body
      }
      const path = req.url ?? '/';
      calls.push({ path, body, at: Date.now() });
      const key = `${String(body.name)}.${String(body.namespace)}`;
      const reply = (status: number, text = ''): void => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(text);
      };
      switch (path) {
        case '/gate/approve':
          return reply(200, 'Approved');
        case '/gate/halt':
          return reply(403, 'Forbidden');
        case '/gate/check':
          return gates.get(key) ? reply(200, 'Approved') : reply(403, 'Forbidden');
        case '/gate/open':
          gates.set(key, true);
          return reply(202, 'Gate opened');
        case '/gate/close':
          gates.set(key, false);
          return reply(202, 'Gate closed');
        case '/rollback/check':
          return rollbacks.get(key) ? reply(200, 'Rollback requested') : reply(403, 'Rollback not requested');
        case '/rollback/open':
          rollbacks.set(key, true);
          return reply(202, 'Rollback opened');
        case '/rollback/close':
          rollbacks.set(key, false);
          return reply(202, 'Rollback closed');
      }
      const handler = handlers.get(path);
      if (handler) {
        void handler(body)
          .then((answer) => reply(answer.status, answer.body))
          .catch((error: unknown) => reply(500, String(error)));
        return;
      }
      const queue = answers.get(path);
      const answer = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      reply(answer?.status ?? 200, answer?.body ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    calls,
    callsTo: (path) => calls.filter((c) => c.path === path),
    respond: (path, ...list) => answers.set(path, list),
    handle: (path, handler) => handlers.set(path, handler),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Opens a loadtester-style gate for a canary, as `curl -d '{"name":…}' /gate/open` would. */
export async function openGate(
  receiver: WebhookReceiver,
  path: string,
  name: string,
  namespace: string,
): Promise<void> {
  await fetch(receiver.url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, namespace }),
  });
}
