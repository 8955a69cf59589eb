import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

// A tiny stand-in for the app's webhook endpoints: records every form-encoded POST so a test can
// check what Twilio (the sandbox, the simulated phone) sent and how it was signed.

export interface ReceivedForm {
  path: string;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
}

export interface FormReceiver {
  url: string;
  received: ReceivedForm[];
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedForm[]>;
  close(): Promise<void>;
}

export async function startFormReceiver(
  answer = { status: 200, body: '<Response/>' },
): Promise<FormReceiver> {
  const received: ReceivedForm[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    received.push({
      path: new URL(req.url ?? '/', 'http://receiver').pathname,
      headers: req.headers,
      params: Object.fromEntries(new URLSearchParams(raw)),
    });
    for (const wake of waiters.splice(0)) wake();
    res.writeHead(answer.status, { 'content-type': 'text/xml' });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`form receiver: got ${received.length} of ${count} requests`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return [...received];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
