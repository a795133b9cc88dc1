/**
 * The OTLP logs data model as both decoders produce it (opentelemetry-proto logs/v1, common/v1,
 * resource/v1). Unset scalar fields take their proto3 defaults; ids are lowercase hex ('' when unset).
 */
import type { AnyValue, KeyValue } from '@otel-audit/semconv';

export type { AnyValue, KeyValue };

export interface LogsRequest {
  readonly resourceLogs: ResourceLogs[];
}

export interface ResourceLogs {
  resource: Resource | undefined;
  readonly scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

export interface Resource {
  readonly attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface ScopeLogs {
  scope: InstrumentationScope | undefined;
  readonly logRecords: LogRecord[];
  schemaUrl: string;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  readonly attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  readonly attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: string;
  spanId: string;
  eventName: string;
}

export function newLogRecord(): LogRecord {
  return {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: null,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
}

/** Thrown by both decoders; the receiver answers 400 / INVALID_ARGUMENT with its message. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

/** The request is well formed but beyond a configured limit: 413 / RESOURCE_EXHAUSTED (not retryable). */
export class OtlpLimitError extends OtlpDecodeError {
  override name = 'OtlpLimitError';
}

/** Limits applied while decoding, so hostile input cannot exhaust memory or the stack. */
export interface DecodeLimits {
  /** Maximum nesting of AnyValue arrays / kvlists. */
  readonly maxDepth: number;
  /** Maximum log records in one request. */
  readonly maxRecords: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDepth: 32, maxRecords: 100_000 };

export function tooManyRecords(limits: DecodeLimits): OtlpLimitError {
  return new OtlpLimitError(
    `the request has more than ${limits.maxRecords} log records; send them in smaller requests`,
  );
}

export function tooDeep(limits: DecodeLimits): OtlpLimitError {
  return new OtlpLimitError(`AnyValue nesting deeper than ${limits.maxDepth} levels`);
}
