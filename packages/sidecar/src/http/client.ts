import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions } from 'node:https';
import { parseRetryAfter } from '@otel-audit/semconv';

/* HTTP client helpers shared by the exporters that post to an HTTP API (sap_auditlog, splunk_hec). */

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The same body as bytes (for binary answers such as an OTLP response). */
  readonly bytes: Buffer;
  /** The body was longer than the request's `maxResponseBytes`: `body` holds only its start. */
  readonly truncated: boolean;
}

/** A failure before any HTTP status (refused, reset, timeout, TLS): always worth a retry. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/** One HTTP(S) request with a keep-alive agent; the response body is read up to 64 KiB (or `maxResponseBytes`). */
export function send(
  url: URL,
  options: {
    method: 'GET' | 'POST';
    headers: Record<string, string | number>;
    body?: string | Buffer;
    agent: HttpAgent | HttpsAgent;
    timeoutMs: number;
    /** Aborts the request (a NetworkError): the caller keeps the records for a later attempt. */
    signal?: AbortSignal;
    /** How much of the response body to keep (default 64 KiB: enough for the error bodies exporters read). */
    maxResponseBytes?: number;
  },
): Promise<HttpResponse> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method,
        headers: options.headers,
        agent: options.agent,
        timeout: options.timeoutMs,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= maxBytes) chunks.push(c);
        });
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes.toString('utf8'),
            bytes,
            truncated: size > maxBytes,
          });
        });
        res.on('error', (err) => reject(new NetworkError(`${url.host}: ${err.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${options.timeoutMs} ms`)));
    req.on('error', (err) => reject(new NetworkError(`${url.host}: ${err.message}`)));
    req.end(options.body);
  });
}

export function createAgent(url: string, maxSockets: number, tls: AgentOptions): HttpAgent | HttpsAgent {
  return url.startsWith('https:')
    ? new HttpsAgent({ keepAlive: true, maxSockets, ...tls })
    : new HttpAgent({ keepAlive: true, maxSockets });
}

/** `Retry-After` as delay-seconds or an HTTP-date, in milliseconds (bounded; see `parseRetryAfter`). */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  return parseRetryAfter(headers['retry-after'], now);
}

/** A response body shortened for an error message or a dead letter. */
export function snippet(body: string, max = 300): string {
  const s = body.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
