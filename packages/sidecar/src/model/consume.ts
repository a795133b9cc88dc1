import type { ValidationIssue } from '@otel-audit/semconv';
import type { DecodeLimits, DecodeMeter, RecordLimits } from './limits.js';
import type { RetrievedRecord } from './local-record.js';
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
  /**
   * The same for a binary `ExportLogsServiceRequest` as received: the consumer decodes it (with
   * `decodeLimits`, throwing the decoder's errors), which lets it map records without decoding
   * them into objects first. `meter` counts what decoding records into objects costs (see DecodeMeter).
   */
  consumeProto(
    body: Buffer,
    decodeLimits: DecodeLimits,
    limits: RecordLimits,
    meter?: DecodeMeter,
  ): Promise<ConsumeResult>;
}

/** A position in the store records are written to: records stored after it was taken come at or after it. */
export type StoreMark = number;

export interface StoredSince {
  /** uuids of the system's retrieved records stored at or after the mark. */
  readonly uuids: ReadonlySet<string>;
  /**
   * False when the store no longer reaches back to the mark (records every exporter had delivered
   * were deleted): a record may have been stored without being among `uuids`.
   */
  readonly complete: boolean;
}

/**
 * Where a receiver hands records that already are local records (retrieved from SAP Audit Log
 * Service): no decoding, validation or mapping, just the durable write.
 */
export interface LocalRecordsConsumer {
  /** Resolves once the records are durable; throws BackpressureError when they cannot be taken now. */
  consumeLocal(records: readonly RetrievedRecord[]): Promise<void>;
  /** The store's position now (take it before a write whose outcome may have to be found out later). */
  mark(): StoreMark;
  /** Which retrieved records of `systemId` were stored at or after `mark` (after a crash, or a failed write). */
  storedSince(mark: StoreMark, systemId: string): Promise<StoredSince>;
}

/** What the service hands every receiver: the entries of the pipeline. */
export type PipelineConsumer = LogsConsumer & LocalRecordsConsumer;
