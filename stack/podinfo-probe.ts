// Which version a local Service address serves: one request to podinfo on a NEW connection, as a new
// client would make it. An established connection keeps the pod it was proxied to (the pod runner
// behaves like kube-proxy), so a pooled client would not see a switch. Loopback addresses only.
import { get } from 'node:http';

/** podinfo's `message` (its `--ui-message`), or undefined on an error or a non-200 answer. */
export function podinfoMessage(address: string, timeoutMs = 2000): Promise<string | undefined> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const request = get(
      { host, port: Number(port), path: '/', agent: false, timeout: timeoutMs },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          try {
            resolve(
              response.statusCode === 200 ? (JSON.parse(body) as { message?: string }).message : undefined,
            );
          } catch {
            resolve(undefined);
          }
        });
      },
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}
