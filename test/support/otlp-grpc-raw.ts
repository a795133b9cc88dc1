import * as grpc from '@grpc/grpc-js';

/** Full method path of the OTLP/gRPC logs Export call. */
export const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** A LogsService client that sends and receives raw bytes (no protobuf encoding on either side). */
export type RawLogsClient = grpc.Client & {
  Export(
    req: Buffer,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Buffer) => void,
  ): void;
};

/** A raw LogsService client for `address` (insecure unless `credentials` say otherwise). */
export function rawLogsClient(
  address: string,
  credentials = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): RawLogsClient {
  const id = (b: Buffer) => b;
  const Ctor = grpc.makeGenericClientConstructor(
    {
      Export: {
        path: LOGS_EXPORT_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: id,
        requestDeserialize: id,
        responseSerialize: id,
        responseDeserialize: id,
      },
    },
    'LogsService',
  );
  return new Ctor(address, credentials, options) as unknown as RawLogsClient;
}

/** One Export call of `body` with a deadline `deadlineMs` from now; resolves (never rejects) with the error or response. */
export function exportRaw(
  client: RawLogsClient,
  body: Buffer,
  deadlineMs: number,
  metadata = new grpc.Metadata(),
): Promise<{ err: grpc.ServiceError | null; res?: Buffer }> {
  return new Promise((resolve) =>
    client.Export(body, metadata, { deadline: Date.now() + deadlineMs }, (err, res) => resolve({ err, res })),
  );
}
