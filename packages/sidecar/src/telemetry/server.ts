import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';
import { addressOf } from '../util/endpoint.js';
import { listen } from '../util/listen.js';

/** A readiness condition; the service is ready when every check returns undefined. */
export type ReadinessCheck = () => string | undefined;

/** `GET /metrics` (Prometheus text format), `/healthz` (process alive) and `/readyz` (accepting records). */
export class TelemetryServer {
  private server: Server | undefined;

  constructor(
    private readonly endpoint: string,
    private readonly metrics: Metrics,
    private readonly readiness: ReadinessCheck[],
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      switch (path) {
        case '/metrics':
          this.metrics.registry.metrics().then(
            (text) => res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(text),
            (err: unknown) => res.writeHead(500).end(String(err)),
          );
          return;
        case '/healthz':
          res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
          return;
        case '/readyz': {
          const problems = this.readiness.map((check) => check()).filter((p) => p !== undefined);
          res
            .writeHead(problems.length === 0 ? 200 : 503, { 'Content-Type': 'text/plain' })
            .end(problems.length === 0 ? 'ready\n' : `${problems.join('\n')}\n`);
          return;
        }
        default:
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
      }
    });
    await listen(server, this.endpoint);
    this.server = server;
  }

  address(): string | undefined {
    return addressOf(this.server?.address());
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
