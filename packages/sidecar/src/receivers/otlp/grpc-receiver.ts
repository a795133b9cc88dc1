import {
  Metadata,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  experimental,
  status,
  type ServerInterceptor,
  type ServerUnaryCall,
  type sendUnaryData,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { LogsConsumer } from '../../model/consume.js';
import {
  decodeLimitsOf,
  recordLimitsOf,
  type DecodeLimits,
  type RecordLimits,
  type RequestLimits,
} from '../../model/limits.js';
import type { MemoryBudget, MemoryLease } from '../../model/memory-budget.js';
import { memoryRefusalReason, ReceiverError, toReceiverError } from './errors.js';
import { FLOW_CONTROL_WINDOW_OPTION, widenReceiveWindows } from './grpc-flow-control.js';
import { consumeProtoBody, decompressBody } from './intake.js';
import { encodeExportResponse, encodeRetryInfo } from '../../otlp/encode-response.js';
import { ProtoWriter } from '../../otlp/proto-writer.js';
import { partialSuccessOf } from '../../otlp/partial-success.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { DRAIN_MS, type OtlpGrpcConfig } from './config.js';
import { BearerAuth, readTlsMaterial, watchTlsMaterial } from './security.js';
import { parseDuration } from '../../util/units.js';
import { formatEndpoint, parseEndpoint } from '../../util/endpoint.js';

export const EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';
/** Responses stay well under what clients accept (4 MiB). */
const MAX_SEND_MESSAGE = 4 * 1024 * 1024;
/** Streams per HTTP/2 connection: an OTLP exporter needs a few; many only hold memory. */
const MAX_CONCURRENT_STREAMS = 100;

const identity = (b: Buffer): Buffer => b;

/**
 * A request message as it came over the wire, before decompression: grpc-js would decompress it
 * itself, without a ratio limit and outside the memory budget, so the receiver takes that over
 * (see {@link takeOverDecompression}) and decompresses it like an HTTP body.
 */
class WireMessage {
  constructor(
    /** `grpc-encoding` of a compressed message, `identity` otherwise. */
    readonly encoding: string,
    readonly bytes: Buffer,
  ) {}
}

/** What grpc-js's server call does with each message; not in its typings (grpc-js 1.14). */
interface DecompressingCall {
  decompressMessage?: (message: Buffer, encoding: string) => Buffer | Promise<Buffer> | WireMessage;
}

/**
 * Makes a grpc-js server call hand its request message over compressed: `decompressMessage` gets
 * each message with its 5-byte prefix and the encoding to apply (`identity` when the message's
 * compressed flag is clear). gzip and deflate are passed on as a {@link WireMessage}; other encodings
 * go to grpc-js, which refuses them. False if grpc-js no longer works this way.
 */
function takeOverDecompression(call: unknown): boolean {
  const c = call as DecompressingCall;
  const original = c.decompressMessage;
  if (typeof original !== 'function') return false;
  c.decompressMessage = (message: Buffer, encoding: string) =>
    encoding === 'gzip' || encoding === 'deflate' || encoding === 'identity'
      ? new WireMessage(encoding, message.subarray(5))
      : original.call(call, message, encoding);
  return true;
}

/** A `google.rpc.Status` with RetryInfo, sent in the `grpc-status-details-bin` trailer. */
function statusDetails(code: number, message: string, retryAfterMs: number): Buffer {
  const any = new ProtoWriter().string(1, RETRY_INFO_TYPE_URL).bytes(2, encodeRetryInfo(retryAfterMs));
  return new ProtoWriter().int(1, code).string(2, message).message(3, any).finish();
}

/**
 * OTLP/gRPC logs receiver (`LogsService/Export`) with `@grpc/grpc-js`: the same decoder and
 * pipeline as HTTP, gzip as grpc-js negotiates it, max message size (after decompression), TLS or
 * mTLS with certificates reloaded from their files, bearer-token auth on the `authorization` metadata.
 */
export class OtlpGrpcReceiver {
  private server: Server | undefined;
  private port = 0;
  private readonly decodeLimits: DecodeLimits;
  private readonly recordLimits: RecordLimits;
  private readonly auth: BearerAuth | undefined;
  private stopWatchingTls: (() => void) | undefined;

  constructor(
    private readonly id: string,
    private readonly config: OtlpGrpcConfig,
    private readonly limits: RequestLimits,
    private readonly consumer: LogsConsumer,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly memory: MemoryBudget,
  ) {
    this.decodeLimits = decodeLimitsOf(limits);
    this.recordLimits = recordLimitsOf(limits);
    this.auth = config.auth ? new BearerAuth(config.auth, logger) : undefined;
  }

  async start(): Promise<void> {
    await this.auth?.start();
    const tls = this.config.tls;
    if (tls !== undefined) {
      // grpc-js reads the files itself and would only fail each handshake: check them at start, as
      // HTTP does, and log reloads (grpc-js picks up changed files on the same interval).
      await readTlsMaterial(tls);
      // grpc-js applies changed files itself; if they do not fit together it refuses new connections.
      this.stopWatchingTls = watchTlsMaterial(
        tls,
        () => undefined,
        this.logger,
        'the changed TLS files are not a usable certificate and key; the gRPC receiver refuses new connections until they are',
      );
    }
    const handshakeMs = parseDuration(this.config.handshake_timeout);
    const pingAfterMs = Math.ceil((handshakeMs * 2) / 3);
    const server = new Server({
      // The message as sent: grpc-js checks it against this before decompression (the receiver
      // checks the decompressed size itself, see takeOverDecompression).
      'grpc.max_receive_message_length': this.config.max_request_body_size,
      'grpc.max_send_message_length': MAX_SEND_MESSAGE,
      'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
      // A connection with no call for idle_timeout is closed (GOAWAY), like HTTP's keep-alive
      // timeout. Every connection is pinged pingAfterMs after it opens and then as often; one that
      // has not completed the HTTP/2 preface, or does not answer, is closed handshake_timeout after
      // it opened: silent, half-open and stalled connections cannot pile up.
      'grpc.max_connection_idle_ms': parseDuration(this.config.idle_timeout),
      'grpc.keepalive_time_ms': pingAfterMs,
      'grpc.keepalive_timeout_ms': Math.max(1, handshakeMs - pingAfterMs),
      ...FLOW_CONTROL_WINDOW_OPTION,
      interceptors: [this.intercept()],
    });
    const service = {
      Export: {
        path: EXPORT_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    };
    const implementation: UntypedServiceImplementation = {
      Export: (call: ServerUnaryCall<Buffer | WireMessage, Buffer>, callback: sendUnaryData<Buffer>) =>
        void this.export(call, callback),
    };
    server.addService(service, implementation);
    const { host, port } = parseEndpoint(this.config.endpoint);
    const address = formatEndpoint(host, port);
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, this.credentials(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    widenReceiveWindows(server, this.logger);
    this.server = server;
  }

  private credentials(): ServerCredentials {
    const tls = this.config.tls;
    if (tls === undefined) return ServerCredentials.createInsecure();
    const provider = new experimental.FileWatcherCertificateProvider({
      certificateFile: tls.cert_file,
      privateKeyFile: tls.key_file,
      ...(tls.client_ca_file === undefined ? {} : { caCertificateFile: tls.client_ca_file }),
      refreshIntervalMs: parseDuration(tls.reload_interval),
    });
    // grpc-js names these parameters the other way round: the first one is the identity provider.
    const mtls = tls.client_ca_file !== undefined;
    const credentials = experimental.createCertificateProviderServerCredentials(provider, mtls ? provider : null, mtls);
    // grpc-js has no option for the TLS handshake's timeout (Node's default: 120 s), and a connection
    // stalled in it is not yet an HTTP/2 session that keep-alive pings would close. The options
    // grpc-js creates the TLS server with are the credentials' constructor options: add it there.
    const constructorOptions = credentials._getConstructorOptions.bind(credentials);
    const handshakeTimeout = parseDuration(this.config.handshake_timeout);
    credentials._getConstructorOptions = () => {
      const options = constructorOptions();
      return options === null ? null : { ...options, handshakeTimeout };
    };
    return credentials;
  }

  address(): string | undefined {
    if (this.server === undefined) return undefined;
    return formatEndpoint(parseEndpoint(this.config.endpoint).host, this.port);
  }

  async shutdown(): Promise<void> {
    this.auth?.stop();
    this.stopWatchingTls?.();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // Calls in flight get DRAIN_MS to finish; a client that never completes its request must not
    // hold the shutdown (what it sent unanswered is retried by the client, or was never stored).
    await new Promise<void>((resolve) => {
      // tryShutdown's callback does not always come after forceShutdown: do not wait for it then.
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, DRAIN_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  /**
   * Takes over the decompression of each call's message (see {@link takeOverDecompression}) and
   * checks the token on the request's metadata, before grpc-js reads the message: an
   * unauthenticated caller cannot make the server buffer (and decompress) request bodies.
   */
  private intercept(): ServerInterceptor {
    let warned = false;
    return (_method, call) => {
      if (!takeOverDecompression(call) && !warned) {
        warned = true;
        this.logger.error(
          'this version of @grpc/grpc-js does not let the receiver decompress messages itself: compressed gRPC messages are decompressed without max_decompression_ratio and outside the intake memory budget',
        );
      }
      const auth = this.auth;
      return new ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, pass) => {
              const authorization = metadata.get('authorization')[0];
              if (auth === undefined || auth.accepts(typeof authorization === 'string' ? authorization : undefined)) {
                pass(metadata);
                return;
              }
              const e = new ReceiverError('unauthenticated', 'missing or invalid bearer token');
              this.metrics.receiverRequests.inc({ receiver: this.id, protocol: 'grpc', status: grpcStatusName(e) });
              call.sendStatus({ code: e.grpcCode, details: e.message });
            },
          }),
      });
    };
  }

  private async export(
    call: ServerUnaryCall<Buffer | WireMessage, Buffer>,
    callback: sendUnaryData<Buffer>,
  ): Promise<void> {
    const started = performance.now();
    let code = 'OK';
    const lease = this.memory.lease();
    try {
      const body = await this.messageOf(call.request, lease);
      const result = await consumeProtoBody(this.consumer, body, this.decodeLimits, this.recordLimits, lease);
      callback(null, encodeExportResponse('protobuf', partialSuccessOf(result)));
    } catch (err) {
      const e = toReceiverError(err, this.logger);
      const memory = memoryRefusalReason(err);
      if (memory !== undefined) {
        this.metrics.receiverMemoryRefusals.inc({ receiver: this.id, protocol: 'grpc', reason: memory });
      }
      code = grpcStatusName(e);
      const metadata = new Metadata();
      if (e.retryAfterMs !== undefined)
        metadata.set('grpc-status-details-bin', statusDetails(e.grpcCode, e.message, e.retryAfterMs));
      const error: Partial<ServiceError> = { code: e.grpcCode, details: e.message, metadata };
      callback(error);
    } finally {
      lease.release();
      this.metrics.receiverRequests.inc({ receiver: this.id, protocol: 'grpc', status: code });
      this.metrics.receiverRequestDuration.observe(
        { receiver: this.id, protocol: 'grpc' },
        (performance.now() - started) / 1000,
      );
    }
  }

  /** The decompressed request message, its memory taken from the lease (grpc-js holds it already). */
  private async messageOf(message: Buffer | WireMessage, lease: MemoryLease): Promise<Buffer> {
    const bytes = message instanceof WireMessage ? message.bytes : message;
    lease.take(bytes.length, `a message of ${bytes.length} bytes`);
    if (!(message instanceof WireMessage) || message.encoding === 'identity') return bytes;
    const compression = message.encoding === 'gzip' ? 'gzip' : 'deflate';
    const { max_request_body_size: maxBody } = this.config;
    return decompressBody(bytes, compression, maxBody, this.limits.maxDecompressionRatio, lease);
  }
}

/** `UNAUTHENTICATED`, `RESOURCE_EXHAUSTED`...: the status name, as the request metric labels it. */
function grpcStatusName(e: ReceiverError): string {
  return status[e.grpcCode] ?? String(e.grpcCode);
}
