import type { ValidationIssue } from '@otel-audit/semconv';
import type { RecordLimits } from './limits.js';
import type { LogsRequest } from './otlp-logs.js';

export interface RejectedRecord {
  /** Position of the record in the request (counting across resources and scopes). */
  readonly index: number;
  readonly uuid: string | undefined;
  readonly issues: readonly ValidationIssue[];
}

/** What became of the records of one request. */
export interface ConsumeResult {
  /** Log records in the request. */
  readonly received: number;
  /** Audit records accepted and durably stored. */
  readonly accepted: number;
  /** Records that are not audit events (EventName not `audit.*`). */
  readonly ignored: number;
  /** Records that failed validation: durably in the dead-letter store, reported to the sender. */
  readonly rejected: readonly RejectedRecord[];
}

/**
 * Where receivers hand decoded requests (with their per-record limits). Resolves once accepted
 * records are durable; throws BackpressureError when they cannot be taken now.
 */
export interface LogsConsumer {
  consume(request: LogsRequest, limits: RecordLimits): Promise<ConsumeResult>;
}
