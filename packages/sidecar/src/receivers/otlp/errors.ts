import { status } from '@grpc/grpc-js';
import { capText } from '@otel-audit/semconv';
import { BackpressureError, PermanentError } from '../../model/errors.js';
import { MemoryBudgetTooSmallError, MemoryBusyError } from '../../model/memory-budget.js';
import { OtlpLimitError } from '../../otlp/errors.js';
import type { Logger } from '../../telemetry/logger.js';

/** Longest error text a receiver answers with; the texts quote values capped already, this is the last guard. */
const MAX_ERROR_MESSAGE_LENGTH = 2048;

/** Retry-After for failures to store records that may pass (a disk error...). */
const UNAVAILABLE_RETRY_MS = 1000;

export type ReceiverErrorKind =
  | 'bad-request'
  | 'too-large'
  | 'unauthenticated'
  | 'not-found'
  | 'method'
  | 'media-type'
  | 'backpressure'
  | 'unavailable';

/**
 * Every way a receiver can refuse a request, mapped in one place to the HTTP status and the gRPC
 * code (as the OTLP spec and the Collector's receiver do): retryable ones (429, 503 /
 * RESOURCE_EXHAUSTED with RetryInfo, UNAVAILABLE) carry a delay; the others are final.
 */
const MAP: Record<ReceiverErrorKind, { http: number; grpc: status }> = {
  'bad-request': { http: 400, grpc: status.INVALID_ARGUMENT },
  'too-large': { http: 413, grpc: status.RESOURCE_EXHAUSTED },
  unauthenticated: { http: 401, grpc: status.UNAUTHENTICATED },
  'not-found': { http: 404, grpc: status.NOT_FOUND },
  method: { http: 405, grpc: status.UNIMPLEMENTED },
  'media-type': { http: 415, grpc: status.INVALID_ARGUMENT },
  backpressure: { http: 429, grpc: status.RESOURCE_EXHAUSTED },
  unavailable: { http: 503, grpc: status.UNAVAILABLE },
};

export class ReceiverError extends Error {
  override readonly name = 'ReceiverError';
  readonly httpStatus: number;
  readonly grpcCode: status;

  constructor(
    readonly kind: ReceiverErrorKind,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(capText(message, MAX_ERROR_MESSAGE_LENGTH));
    this.httpStatus = MAP[kind].http;
    this.grpcCode = MAP[kind].grpc;
  }
}

export function toReceiverError(err: unknown, logger: Logger): ReceiverError {
  if (err instanceof ReceiverError) return err;
  if (err instanceof OtlpLimitError || err instanceof MemoryBudgetTooSmallError)
    return new ReceiverError('too-large', err.message);
  if (err instanceof PermanentError) return new ReceiverError('bad-request', err.message);
  if (err instanceof BackpressureError) return new ReceiverError('backpressure', err.message, err.retryAfterMs);
  // Not every RangeError is the client's fault (storage raises them too: buffer allocation, string
  // length), so they are not classified here; the decoders turn their own into OtlpDecodeError.
  logger.error({ err }, 'could not store received records; the client will retry');
  return new ReceiverError('unavailable', 'records could not be stored durably; retry later', UNAVAILABLE_RETRY_MS);
}

/** Why a request was refused for want of intake memory (the metric's `reason`), or undefined. */
export function memoryRefusalReason(err: unknown): 'busy' | 'too_large' | undefined {
  if (err instanceof MemoryBusyError) return 'busy';
  if (err instanceof MemoryBudgetTooSmallError) return 'too_large';
  return undefined;
}
