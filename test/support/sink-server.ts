import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SinkMode =
  | { readonly kind: 'ok' }
  | { readonly kind: 'status'; readonly status: 503 | 429 | 500; readonly retryAfterSeconds?: number }
  /** 400 for records whose JSON contains `marker`; the rest of the batch is accepted. */
  | { readonly kind: 'reject'; readonly marker: string };

/** The destination of the test-only `http_sink` exporter: records what arrives; can be told to fail or go away. */
export class SinkServer {
  /** uuids in the order they were accepted (duplicates included). */
  readonly received: string[] = [];
  mode: SinkMode = { kind: 'ok' };
  requests = 0;
  private server: Server | undefined;
  private port = 0;

  async listen(port = this.port): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const records = JSON.parse(Buffer.concat(chunks).toString()) as { message_uuid: string }[];
        const mode = this.mode;
        if (mode.kind === 'status') {
          res
            .writeHead(
              mode.status,
              mode.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(mode.retryAfterSeconds) },
            )
            .end();
          return;
        }
        const rejected: number[] = [];
        records.forEach((r, i) => {
          if (mode.kind === 'reject' && JSON.stringify(r).includes(mode.marker)) rejected.push(i);
          else this.received.push(r.message_uuid);
        });
        if (rejected.length > 0) {
          res
            .writeHead(400, { 'Content-Type': 'application/json' })
            .end(JSON.stringify({ rejected, reason: `contains ${(mode as { marker: string }).marker}` }));
        } else res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/`;
  }

  /** Stops listening (the exporter then gets connection refused); `listen()` resumes on the same port. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
