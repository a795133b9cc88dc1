import * as grpc from '@grpc/grpc-js';
import type { ExporterSettings } from '../config.js';
import { retryDelayFromStatus } from './status.js';
import type { OtlpTransport, SendResult } from './transport.js';

const EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** Codes the OTLP spec lists as retryable (RESOURCE_EXHAUSTED only with RetryInfo, which otel-audit sends). */
const RETRYABLE = new Set<grpc.status>([
  grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

const identity = (b: Buffer): Buffer => b;

type ExportClient = grpc.Client & {
  Export(
    request: Buffer,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: Buffer) => void,
  ): grpc.ClientUnaryCall;
};

/** OTLP/gRPC: the request is already serialized, so the client passes bytes through. */
export class GrpcTransport implements OtlpTransport {
  private readonly client: ExportClient;
  private readonly metadata = new grpc.Metadata();

  constructor(settings: ExporterSettings) {
    const url = new URL(settings.url);
    const secure = url.protocol === 'https:';
    const credentials = secure
      ? grpc.credentials.createSsl(
          settings.tls.ca ? Buffer.from(settings.tls.ca) : null,
          settings.tls.key ? Buffer.from(settings.tls.key) : null,
          settings.tls.cert ? Buffer.from(settings.tls.cert) : null,
        )
      : grpc.credentials.createInsecure();
    const Client = grpc.makeGenericClientConstructor(
      {
        Export: {
          path: EXPORT_PATH,
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      'LogsService',
    );
    const options: grpc.ChannelOptions =
      settings.compression === 'gzip' ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {};
    this.client = new Client(url.host, credentials, options) as unknown as ExportClient;
    for (const [k, v] of Object.entries(settings.headers)) this.metadata.set(k.toLowerCase(), v);
  }

  send(body: Uint8Array, timeoutMillis: number): Promise<SendResult> {
    return new Promise((resolve) => {
      this.client.Export(
        Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        this.metadata,
        { deadline: Date.now() + timeoutMillis },
        (err, response) => {
          if (!err) {
            resolve({ kind: 'ok', body: response ?? Buffer.alloc(0) });
            return;
          }
          const reason = `gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}`;
          const details = err.metadata?.get('grpc-status-details-bin')[0];
          const retryAfterMs = details instanceof Buffer ? retryDelayFromStatus(details) : undefined;
          if (RETRYABLE.has(err.code) || (err.code === grpc.status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined)) {
            resolve({ kind: 'retryable', reason, retryAfterMs });
          } else {
            resolve({ kind: 'failed', reason });
          }
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
