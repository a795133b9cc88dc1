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
import { encodeExportResponse, encodeRetryInfo } from '../../otlp/encode-response.js';
import { ProtoWriter } from '../../otlp/proto-writer.js';
import { partialSuccessOf } from '../../otlp/partial-success.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { DRAIN_MS, type OtlpGrpcConfig } from './config.js';
import { ReceiverError, toReceiverError } from './errors.js';
import { FLOW_CONTROL_WINDOW_OPTION, widenReceiveWindows } from './grpc-flow-control.js';
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
    limits: RequestLimits,
    private readonly consumer: LogsConsumer,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
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
    const server = new Server({
      'grpc.max_receive_message_length': this.config.max_request_body_size,
      'grpc.max_send_message_length': MAX_SEND_MESSAGE,
      'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
      ...FLOW_CONTROL_WINDOW_OPTION,
      ...(this.auth === undefined ? {} : { interceptors: [this.authenticate(this.auth)] }),
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
      Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
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
    return experimental.createCertificateProviderServerCredentials(provider, mtls ? provider : null, mtls);
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
   * Checks the token on the request's metadata, before grpc-js reads the message: an unauthenticated
   * caller cannot make the server buffer (and decompress) request bodies.
   */
  private authenticate(auth: BearerAuth): ServerInterceptor {
    return (_method, call) =>
      new ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, pass) => {
              const authorization = metadata.get('authorization')[0];
              if (auth.accepts(typeof authorization === 'string' ? authorization : undefined)) {
                pass(metadata);
                return;
              }
              const e = new ReceiverError('unauthenticated', 'missing or invalid bearer token');
              this.metrics.receiverRequests.inc({ receiver: this.id, protocol: 'grpc', status: grpcStatusName(e) });
              call.sendStatus({ code: e.grpcCode, details: e.message });
            },
          }),
      });
  }

  private async export(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> {
    const started = performance.now();
    let code = 'OK';
    try {
      const result = await this.consumer.consumeProto(call.request, this.decodeLimits, this.recordLimits);
      callback(null, encodeExportResponse('protobuf', partialSuccessOf(result)));
    } catch (err) {
      const e = toReceiverError(err, this.logger);
      code = grpcStatusName(e);
      const metadata = new Metadata();
      if (e.retryAfterMs !== undefined)
        metadata.set('grpc-status-details-bin', statusDetails(e.grpcCode, e.message, e.retryAfterMs));
      const error: Partial<ServiceError> = { code: e.grpcCode, details: e.message, metadata };
      callback(error);
    } finally {
      this.metrics.receiverRequests.inc({ receiver: this.id, protocol: 'grpc', status: code });
      this.metrics.receiverRequestDuration.observe(
        { receiver: this.id, protocol: 'grpc' },
        (performance.now() - started) / 1000,
      );
    }
  }
}

/** `UNAUTHENTICATED`, `RESOURCE_EXHAUSTED`...: the status name, as the request metric labels it. */
function grpcStatusName(e: ReceiverError): string {
  return status[e.grpcCode] ?? String(e.grpcCode);
}
