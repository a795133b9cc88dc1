import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { performance } from 'node:perf_hooks';
import type { LogsConsumer } from '../../model/consume.js';
import {
  decodeLimitsOf,
  recordLimitsOf,
  type DecodeLimits,
  type RecordLimits,
  type RequestLimits,
} from '../../model/limits.js';
import { quote } from '@otel-audit/semconv';
import type { MemoryBudget, MemoryLease } from '../../model/memory-budget.js';
import { CONTENT_TYPE, encodeExportResponse, encodeStatus, type OtlpEncoding } from '../../otlp/encode-response.js';
import { partialSuccessOf } from '../../otlp/partial-success.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { DRAIN_MS, type OtlpHttpConfig } from './config.js';
import { memoryRefusalReason, ReceiverError, toReceiverError } from './errors.js';
import { consumeProtoBody, decodeJsonBody, decompressBody } from './intake.js';
import { BearerAuth, readTlsMaterial, watchTlsMaterial } from './security.js';
import { addressOf } from '../../util/endpoint.js';
import { listen } from '../../util/listen.js';
import { parseDuration } from '../../util/units.js';

/**
 * An oversized upload is read and thrown away up to this multiple of the limit before the 413 goes
 * out, so ordinary clients see the answer instead of a reset connection; past it the connection is cut.
 */
const DISCARD_FACTOR = 4;

/**
 * OTLP/HTTP logs receiver: POST /v1/logs, protobuf or JSON, optionally gzip/deflate compressed,
 * over plain HTTP or TLS (mTLS with a client CA), optionally behind bearer-token authentication.
 */
export class OtlpHttpReceiver {
  private server: Server | HttpsServer | undefined;
  private readonly maxBody: number;
  private readonly decodeLimits: DecodeLimits;
  private readonly recordLimits: RecordLimits;
  private readonly auth: BearerAuth | undefined;
  private stopWatchingTls: (() => void) | undefined;

  constructor(
    private readonly id: string,
    private readonly config: OtlpHttpConfig,
    private readonly limits: RequestLimits,
    private readonly consumer: LogsConsumer,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly memory: MemoryBudget,
  ) {
    this.maxBody = config.max_request_body_size;
    this.decodeLimits = decodeLimitsOf(limits);
    this.recordLimits = recordLimitsOf(limits);
    this.auth = config.auth ? new BearerAuth(config.auth, logger) : undefined;
  }

  async start(): Promise<void> {
    await this.auth?.start();
    const handshakeMs = parseDuration(this.config.handshake_timeout);
    const options = {
      // Node checks the headers' deadline only every connectionsCheckingInterval (default 30 s).
      headersTimeout: handshakeMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(handshakeMs / 4))),
      requestTimeout: Math.max(60_000, handshakeMs),
      keepAliveTimeout: 65_000,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    let server: Server | HttpsServer;
    const tls = this.config.tls;
    if (tls) {
      const material = await readTlsMaterial(tls);
      const mtls = material.ca !== undefined;
      const https = createHttpsServer(
        // Node's default for the TLS handshake is 120 s: a stalled one counts against the same deadline.
        { ...options, ...material, requestCert: mtls, rejectUnauthorized: mtls, handshakeTimeout: handshakeMs },
        handler,
      );
      this.stopWatchingTls = watchTlsMaterial(tls, (m) => https.setSecureContext({ ...m }), this.logger);
      server = https;
    } else {
      server = createHttpServer(options, handler);
    }
    await listen(server, this.config.endpoint);
    this.server = server;
  }

  address(): string | undefined {
    return addressOf(this.server?.address());
  }

  async shutdown(): Promise<void> {
    this.auth?.stop();
    this.stopWatchingTls?.();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Requests in flight get DRAIN_MS to finish; a client that never completes its request must not
    // hold the shutdown (what it sent unanswered is retried by the client, or was never stored).
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let encoding: OtlpEncoding = 'json';
    const lease = this.memory.lease();
    try {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (path !== this.config.logs_url_path) {
        throw new ReceiverError(
          'not-found',
          `not found: ${quote(path ?? '')}; OTLP logs are accepted at ${this.config.logs_url_path}`,
        );
      }
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        throw new ReceiverError('method', `method ${quote(req.method ?? '')} not allowed, supported: [POST]`);
      }
      if (this.auth !== undefined && !this.auth.accepts(req.headers.authorization)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        req.resume();
        throw new ReceiverError('unauthenticated', 'missing or invalid bearer token');
      }
      const requestEncoding = encodingOf(req.headers['content-type']);
      if (requestEncoding === undefined) {
        throw new ReceiverError(
          'media-type',
          `unsupported content type ${quote(req.headers['content-type'] ?? '')}, supported: [application/x-protobuf, application/json]`,
        );
      }
      encoding = requestEncoding;
      const body = await this.readBody(req, lease);
      const result =
        encoding === 'protobuf'
          ? await consumeProtoBody(this.consumer, body, this.decodeLimits, this.recordLimits, lease)
          : await this.consumer.consume(decodeJsonBody(body, this.decodeLimits, lease), this.recordLimits);
      this.reply(res, 200, encoding, encodeExportResponse(encoding, partialSuccessOf(result)));
    } catch (err) {
      const e = toReceiverError(err, this.logger);
      const memory = memoryRefusalReason(err);
      if (memory !== undefined) {
        this.metrics.receiverMemoryRefusals.inc({ receiver: this.id, protocol: 'http', reason: memory });
      }
      // After a refused upload the rest of its body may still be in flight: do not reuse the connection.
      if (e.httpStatus === 413 || (memory !== undefined && !req.complete)) res.setHeader('Connection', 'close');
      if (e.retryAfterMs !== undefined)
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))));
      this.reply(res, e.httpStatus, encoding, encodeStatus(encoding, e.grpcCode, e.message));
    } finally {
      lease.release();
      this.metrics.receiverRequestDuration.observe(
        { receiver: this.id, protocol: 'http' },
        (performance.now() - started) / 1000,
      );
    }
  }

  private reply(res: ServerResponse, status: number, encoding: OtlpEncoding, body: Buffer): void {
    this.metrics.receiverRequests.inc({ receiver: this.id, protocol: 'http', status: String(status) });
    if (res.headersSent) return;
    res.statusCode = status;
    res.setHeader('Content-Type', CONTENT_TYPE[encoding]);
    res.setHeader('Content-Length', body.length);
    res.end(body);
  }

  /**
   * Reads the body, refusing it (413) as soon as it exceeds the limit, taking its memory from the
   * lease before it is read (or as it arrives, without a Content-Length); decompresses with bounds.
   */
  private async readBody(req: IncomingMessage, lease: MemoryLease): Promise<Buffer> {
    const compression = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    if (compression !== 'identity' && compression !== 'gzip' && compression !== 'deflate') {
      throw new ReceiverError(
        'media-type',
        `unsupported content encoding ${quote(compression)}, supported: [gzip, deflate]`,
      );
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.maxBody) {
      await discard(req, this.maxBody * DISCARD_FACTOR);
      throw this.tooLarge(`request body of ${declared} bytes`);
    }
    const known = Number.isFinite(declared);
    let raw: Buffer | undefined;
    try {
      if (known) lease.take(declared, `a request body of ${declared} bytes`);
      raw = await readLimited(
        req,
        this.maxBody,
        known ? declared : undefined,
        known ? undefined : (bytes) => lease.take(bytes, 'the request body'),
      );
    } catch (err) {
      await discard(req, this.maxBody * DISCARD_FACTOR);
      throw err;
    }
    if (raw === undefined) {
      await discard(req, this.maxBody * DISCARD_FACTOR);
      throw this.tooLarge('request body');
    }
    if (compression === 'identity') return raw;
    return decompressBody(raw, compression, this.maxBody, this.limits.maxDecompressionRatio, lease);
  }

  private tooLarge(what: string): ReceiverError {
    return new ReceiverError('too-large', `${what} exceeds the limit of ${this.maxBody} bytes`);
  }
}

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  if (contentType === undefined) return undefined;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return undefined;
}

/** Reads and drops the rest of a request body, up to `budget` bytes; resolves at its end or when the budget is spent. */
function discard(req: IncomingMessage, budget: number): Promise<void> {
  return new Promise((resolve) => {
    // A request the client broke off has emitted its last event already.
    if (req.complete || req.destroyed) {
      resolve();
      return;
    }
    let seen = 0;
    const done = () => {
      req.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > budget) {
        req.pause();
        done();
      }
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('error', done);
    req.once('close', done);
    req.resume();
  });
}

/**
 * The request body, or undefined once it grows past `limit` (what was read is dropped at once,
 * so an oversized upload costs no more memory than the limit). `charge` is called with each
 * chunk's size before it is kept; if it throws, reading stops and the promise rejects with that.
 */
function readLimited(
  req: IncomingMessage,
  limit: number,
  declared: number | undefined,
  charge?: (bytes: number) => void,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const stop = () => {
      over = true;
      chunks.length = 0;
      req.off('data', onData);
    };
    const onData = (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        stop();
        resolve(undefined);
        return;
      }
      if (charge !== undefined) {
        try {
          charge(chunk.length);
        } catch (err) {
          stop();
          reject(err);
          return;
        }
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (over) return;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, declared === size ? declared : size));
    });
    req.on('error', reject);
    const aborted = () => reject(new ReceiverError('bad-request', 'request aborted by the client'));
    req.on('aborted', aborted);
    // Without 'end', a closed request was broken off (the promise is settled already otherwise).
    req.on('close', aborted);
  });
}
