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
  /**
   * Set by the decoder when a string of the record is not valid UTF-8 (the protobuf decoder replaced
   * its bad bytes): the field that holds it (an attribute key, `body`, `SeverityText`, `EventName`).
   * The pipeline rejects such an audit record.
   */
  malformedField?: string;
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
