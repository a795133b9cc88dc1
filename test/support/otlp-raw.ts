import protobuf from 'protobufjs';

/**
 * An independent OTLP logs encoder/decoder for tests, built with protobufjs from a schema written
 * out here (field numbers per opentelemetry-proto logs/v1, common/v1, resource/v1). It encodes
 * requests the way another language's SDK would (any field, any value type), unlike the OTel JS
 * exporters which only produce what the JS SDK can express.
 */
const SCHEMA = `
syntax = "proto3";
package otlptest;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message InstrumentationScope {
  string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4;
}
message LogRecord {
  fixed64 time_unix_nano = 1;
  fixed64 observed_time_unix_nano = 11;
  int32 severity_number = 2;
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  uint32 dropped_attributes_count = 7;
  fixed32 flags = 8;
  bytes trace_id = 9;
  bytes span_id = 10;
  string event_name = 12;
}
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
message Status { int32 code = 1; string message = 2; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
const RequestType = root.lookupType('otlptest.ExportLogsServiceRequest');
const ResponseType = root.lookupType('otlptest.ExportLogsServiceResponse');
const StatusType = root.lookupType('otlptest.Status');

/** A plain value turned into the AnyValue object form (strings, booleans, bigint ints, doubles, arrays, objects). */
export type Plain = string | boolean | number | bigint | Uint8Array | Plain[] | { [k: string]: Plain } | null;

export function anyValue(v: Plain): Record<string, unknown> {
  if (v === null) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  if (v instanceof Uint8Array) return { bytesValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return { kvlistValue: { values: attributes(v) } };
}

export function attributes(obj: Record<string, Plain>): { key: string; value: Record<string, unknown> }[] {
  return Object.entries(obj).map(([key, value]) => ({ key, value: anyValue(value) }));
}

/** Encodes a request given in protobufjs object form (camelCase field names). */
export function encodeLogsRequest(request: Record<string, unknown>): Buffer {
  // fromObject converts decimal strings for 64-bit fields (verify() would insist on numbers).
  return Buffer.from(RequestType.encode(RequestType.fromObject(request)).finish());
}

export function decodeLogsResponse(body: Uint8Array): {
  partialSuccess?: { rejectedLogRecords?: string; errorMessage?: string };
} {
  return ResponseType.toObject(ResponseType.decode(body), { longs: String });
}

export function decodeStatus(body: Uint8Array): { code?: number; message?: string } {
  return StatusType.toObject(StatusType.decode(body));
}

/** A one-record request as a plain OTel SDK in another language sends an audit event (flattened form). */
export function singleRecordRequest(options: {
  eventName?: string;
  body?: Plain;
  attributes: Record<string, Plain>;
  resource?: Record<string, Plain>;
  timeUnixNano?: string;
  useEventNameAttribute?: boolean;
}): Record<string, unknown> {
  const attrs = { ...options.attributes };
  if (options.useEventNameAttribute && options.eventName) attrs['event.name'] = options.eventName;
  return {
    resourceLogs: [
      {
        resource: { attributes: attributes(options.resource ?? { 'service.name': 'java-app' }) },
        scopeLogs: [
          {
            scope: { name: 'com.example.audit', version: '1.0.0' },
            logRecords: [
              {
                timeUnixNano: options.timeUnixNano ?? '1795255200123000000',
                observedTimeUnixNano: '1795255200124000000',
                severityNumber: 9,
                severityText: 'INFO',
                ...(options.useEventNameAttribute ? {} : { eventName: options.eventName }),
                ...(options.body === undefined ? {} : { body: anyValue(options.body) }),
                attributes: attributes(attrs),
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Decodes an `ExportLogsServiceRequest` to the protobufjs object form (64-bit numbers as strings, bytes as Buffers). */
export function decodeLogsRequest(body: Uint8Array): Record<string, unknown> {
  return RequestType.toObject(RequestType.decode(body), { longs: String, bytes: Buffer, defaults: false });
}

/** Encodes an `ExportLogsServiceResponse` (empty: full success; with `rejected`: a partial success). */
export function encodeLogsResponse(rejected = 0, message = ''): Buffer {
  const partial = rejected > 0 ? { partialSuccess: { rejectedLogRecords: rejected, errorMessage: message } } : {};
  return Buffer.from(ResponseType.encode(ResponseType.fromObject(partial)).finish());
}
