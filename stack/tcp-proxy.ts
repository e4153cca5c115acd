// A loopback TCP proxy standing in for a Service's cluster IP: a stable local address that spreads
// connections round-robin over the Service's current local endpoints.
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

export class ServiceProxy {
  private endpoints: string[] = [];
  private next = 0;
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  static async listen(port = 0): Promise<ServiceProxy> {
    const server = createServer();
    const proxy = new ServiceProxy(server);
    server.on('connection', (socket) => proxy.forward(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get address(): string {
    const { port } = this.server.address() as AddressInfo;
    return `127.0.0.1:${port}`;
  }

  /** Applies to connections accepted from now on; established ones keep their endpoint to the end. */
  setEndpoints(endpoints: string[]): void {
    this.endpoints = endpoints;
  }

  private forward(socket: Socket): void {
    const target = this.endpoints[this.next++ % Math.max(1, this.endpoints.length)];
    if (!target) {
      socket.destroy();
      return;
    }
    const [host, port] = target.split(':');
    const upstream = connect(Number(port), host ?? '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const close = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close);
    upstream.on('error', close);
  }

  /** Stops accepting; established connections run to their end (this does not wait for them). */
  close(): void {
    this.server.close();
  }
}

export async function freeLocalPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
