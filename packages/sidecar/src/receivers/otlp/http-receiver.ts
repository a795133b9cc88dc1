import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { promisify } from 'node:util';
import { BackpressureError, type LogsConsumer } from '../../component.js';
import { decodeLogsRequestJson } from '../../otlp/decode-json.js';
import { decodeLogsRequestProto } from '../../otlp/decode-proto.js';
import {
  CONTENT_TYPE,
  encodeExportResponse,
  encodeStatus,
  GrpcCode,
  type OtlpEncoding,
} from '../../otlp/encode-response.js';
import { OtlpDecodeError, type LogsRequest } from '../../otlp/model.js';
import { formatRejections } from '../../pipeline/pipeline.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { parseEndpoint } from '../../config/schema.js';
import type { OtlpHttpConfig } from './config.js';

const gunzipAsync = promisify<InputType, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);

/**
 * An oversized upload is read and thrown away up to this multiple of the limit before the 413 goes
 * out, so ordinary clients see the answer instead of a reset connection; past it the connection is cut.
 */
const DISCARD_FACTOR = 4;

/** Retry-After for 503s when the pipeline failed for a reason that may pass (disk error...). */
const UNAVAILABLE_RETRY_MS = 1000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: GrpcCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** OTLP/HTTP logs receiver: POST /v1/logs, protobuf or JSON, optionally gzip/deflate compressed. */
export class OtlpHttpReceiver {
  private server: Server | undefined;
  private readonly maxBody: number;

  constructor(
    private readonly id: string,
    private readonly config: OtlpHttpConfig,
    private readonly consumer: LogsConsumer,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.maxBody = config.max_request_body_size;
  }

  async start(): Promise<void> {
    const server = createServer(
      { requestTimeout: 60_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 },
      (req, res) => {
        void this.handle(req, res);
      },
    );
    const { host, port } = parseEndpoint(this.config.endpoint);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  address(): string | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let encoding: OtlpEncoding = 'json';
    try {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (path !== this.config.logs_url_path) {
        throw new HttpError(
          404,
          GrpcCode.NOT_FOUND,
          `not found: ${path ?? ''}; OTLP logs are accepted at ${this.config.logs_url_path}`,
        );
      }
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        throw new HttpError(405, GrpcCode.UNIMPLEMENTED, `method ${req.method ?? ''} not allowed, supported: [POST]`);
      }
      const requestEncoding = encodingOf(req.headers['content-type']);
      if (requestEncoding === undefined) {
        throw new HttpError(
          415,
          GrpcCode.INVALID_ARGUMENT,
          `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}, supported: [application/x-protobuf, application/json]`,
        );
      }
      encoding = requestEncoding;
      const body = await this.readBody(req);
      const request = this.decode(encoding, body);
      const result = await this.consumer.consume(request);
      const partial =
        result.rejected.length > 0
          ? { rejectedLogRecords: result.rejected.length, errorMessage: formatRejections(result) }
          : undefined;
      this.reply(res, 200, encoding, encodeExportResponse(encoding, partial));
    } catch (err) {
      const e = this.toHttpError(err);
      // After a refused upload the rest of its body may still be in flight: do not reuse the connection.
      if (e.status === 413) res.setHeader('Connection', 'close');
      if (e.retryAfterMs !== undefined)
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))));
      this.reply(res, e.status, encoding, encodeStatus(encoding, e.code, e.message));
    }
  }

  private toHttpError(err: unknown): HttpError {
    if (err instanceof HttpError) return err;
    if (err instanceof OtlpDecodeError) return new HttpError(400, GrpcCode.INVALID_ARGUMENT, err.message);
    if (err instanceof BackpressureError) {
      return new HttpError(429, GrpcCode.RESOURCE_EXHAUSTED, err.message, err.retryAfterMs);
    }
    this.logger.error({ err }, 'could not store received records; the client will retry');
    return new HttpError(
      503,
      GrpcCode.UNAVAILABLE,
      'records could not be stored durably; retry later',
      UNAVAILABLE_RETRY_MS,
    );
  }

  private reply(res: ServerResponse, status: number, encoding: OtlpEncoding, body: Buffer): void {
    this.metrics.receiverRequests.inc({ receiver: this.id, protocol: 'http', status: String(status) });
    if (res.headersSent) return;
    res.statusCode = status;
    res.setHeader('Content-Type', CONTENT_TYPE[encoding]);
    res.setHeader('Content-Length', body.length);
    res.end(body);
  }

  /** Reads the body, refusing it (413) as soon as it exceeds the limit. */
  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const compression = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    if (compression !== 'identity' && compression !== 'gzip' && compression !== 'deflate') {
      throw new HttpError(
        415,
        GrpcCode.INVALID_ARGUMENT,
        `unsupported content encoding ${JSON.stringify(compression)}, supported: [gzip, deflate]`,
      );
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.maxBody) {
      await discard(req, this.maxBody * DISCARD_FACTOR);
      throw this.tooLarge(declared);
    }
    const raw = await readLimited(req, this.maxBody, Number.isFinite(declared) ? declared : undefined);
    if (raw === undefined) {
      await discard(req, this.maxBody * DISCARD_FACTOR);
      throw this.tooLarge();
    }
    if (compression === 'identity') return raw;
    try {
      const opts = { maxOutputLength: this.maxBody };
      return await (compression === 'gzip' ? gunzipAsync(raw, opts) : inflateAsync(raw, opts));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new HttpError(
          413,
          GrpcCode.INVALID_ARGUMENT,
          `decompressed body exceeds the limit of ${this.maxBody} bytes`,
        );
      }
      throw new HttpError(
        400,
        GrpcCode.INVALID_ARGUMENT,
        `cannot decompress ${compression} body: ${(err as Error).message}`,
      );
    }
  }

  private tooLarge(size?: number): HttpError {
    return new HttpError(
      413,
      GrpcCode.INVALID_ARGUMENT,
      `request body${size === undefined ? '' : ` of ${size} bytes`} exceeds the limit of ${this.maxBody} bytes`,
    );
  }

  private decode(encoding: OtlpEncoding, body: Buffer): LogsRequest {
    return encoding === 'protobuf' ? decodeLogsRequestProto(body) : decodeLogsRequestJson(body.toString('utf8'));
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
    if (req.complete) {
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
 * so an oversized upload costs no more memory than the limit).
 */
function readLimited(req: IncomingMessage, limit: number, declared: number | undefined): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const onData = (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        req.off('data', onData);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (over) return;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, declared === size ? declared : size));
    });
    req.on('error', reject);
    req.on('aborted', () => reject(new HttpError(400, GrpcCode.CANCELLED, 'request aborted by the client')));
  });
}
