import { ProtoWriter } from './proto-writer.js';

export type OtlpEncoding = 'protobuf' | 'json';

export const CONTENT_TYPE: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

export interface PartialSuccess {
  readonly rejectedLogRecords: number;
  readonly errorMessage: string;
}

/** `ExportLogsServiceResponse`; `partial_success` is left unset on full success, as the spec requires. */
export function encodeExportResponse(encoding: OtlpEncoding, partial: PartialSuccess | undefined): Buffer {
  if (encoding === 'json') {
    if (partial === undefined) return Buffer.from('{}');
    return Buffer.from(
      JSON.stringify({
        partialSuccess: {
          rejectedLogRecords: String(partial.rejectedLogRecords),
          errorMessage: partial.errorMessage,
        },
      }),
    );
  }
  if (partial === undefined) return Buffer.alloc(0);
  const inner = new ProtoWriter().int(1, partial.rejectedLogRecords).string(2, partial.errorMessage);
  return new ProtoWriter().message(1, inner).finish();
}

const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** `google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; }` */
export function encodeRetryInfo(delayMs: number): Buffer {
  const seconds = Math.floor(delayMs / 1000);
  const nanos = Math.round((delayMs - seconds * 1000) * 1e6);
  const duration = new ProtoWriter().int(1, seconds).int(2, nanos);
  return new ProtoWriter().message(1, duration).finish();
}

/** `google.rpc.Status`, the body of every OTLP/HTTP error response. */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string, retryDelayMs?: number): Buffer {
  if (encoding === 'json') {
    const details =
      retryDelayMs === undefined
        ? undefined
        : [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${(retryDelayMs / 1000).toFixed(3)}s` }];
    return Buffer.from(JSON.stringify({ code, message, ...(details ? { details } : {}) }));
  }
  const w = new ProtoWriter().int(1, code).string(2, message);
  if (retryDelayMs !== undefined) {
    w.message(3, new ProtoWriter().string(1, RETRY_INFO_TYPE_URL).bytes(2, encodeRetryInfo(retryDelayMs)));
  }
  return w.finish();
}
