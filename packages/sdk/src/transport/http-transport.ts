import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { parseRetryAfter } from '@otel-audit/semconv';
import type { ExporterSettings } from '../config.js';
import { decodeStatusMessage } from './status.js';
import { RETRYABLE_NETWORK_CODES, type OtlpTransport, type SendResult } from './transport.js';

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** OTLP/HTTP with a keep-alive connection pool. */
export class HttpTransport implements OtlpTransport {
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly contentType: string;

  constructor(private readonly settings: ExporterSettings) {
    this.url = new URL(settings.url);
    const https = this.url.protocol === 'https:';
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 8, ...settings.tls })
      : new HttpAgent({ keepAlive: true, maxSockets: 8 });
    this.contentType = settings.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
  }

  send(body: Uint8Array, timeoutMillis: number): Promise<SendResult> {
    const gzip = this.settings.compression === 'gzip';
    const payload = gzip ? gzipSync(body) : body;
    const request = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<SendResult>((resolve) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: timeoutMillis,
          headers: {
            ...this.settings.headers,
            'Content-Type': this.contentType,
            'Content-Length': payload.length,
            ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
          },
        },
        (res) => {
          readAll(res).then(
            (data) => resolve(this.result(res, data)),
            (err: unknown) => resolve({ kind: 'retryable', reason: `response aborted: ${(err as Error).message}` }),
          );
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no response within ${timeoutMillis} ms`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        const reason = `${this.url.host}: ${err.message}`;
        resolve(
          RETRYABLE_NETWORK_CODES.has(err.code ?? '') ? { kind: 'retryable', reason } : { kind: 'failed', reason },
        );
      });
      req.end(payload);
    });
  }

  private result(res: IncomingMessage, body: Buffer): SendResult {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return { kind: 'ok', body };
    const detail = decodeStatusMessage(body, res.headers['content-type'] ?? '');
    const reason = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
    if (RETRYABLE_STATUS.has(status)) {
      return { kind: 'retryable', reason, retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
    }
    return { kind: 'failed', reason };
  }

  close(): void {
    this.agent.destroy();
  }
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('aborted')));
  });
}
