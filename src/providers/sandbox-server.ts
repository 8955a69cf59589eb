import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// The HTTP plumbing every provider sandbox shares: a server on 127.0.0.1 only (a test double, never
// a service), a handler whose failure answers the sandbox's own 500 instead of crashing the process,
// and a close that does not wait for keep-alive connections.

export type SandboxHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface LoopbackServer {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  close(): Promise<void>;
}

export async function listenOnLoopback(options: {
  port?: number;
  handle: SandboxHandler;
  /** Answers a request whose handler threw before it answered. */
  onFailure: (err: unknown, res: ServerResponse) => void;
}): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    options.handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      options.onFailure(err, res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
