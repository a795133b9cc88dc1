import { KeyValueList, type AnyValue, type KeyValue } from '@otel-audit/semconv';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../model/limits.js';
import {
  newLogRecord,
  type InstrumentationScope,
  type LogRecord,
  type LogsRequest,
  type Resource,
  type ResourceLogs,
  type ScopeLogs,
} from '../model/otlp-logs.js';
import { DecodeState, decoding, tooDeep, tooManyElements, type DecodeMeter } from './decode-limits.js';
import { OtlpDecodeError } from './errors.js';
import { ProtoReader } from './proto-reader.js';

// Tags are (field number << 3) | wire type; a known field with an unexpected wire type falls
// through to `skipField`, i.e. it is treated as an unknown field, as protobuf implementations do.
const LEN = 2;
const tag = (field: number, wireType: number): number => (field << 3) | wireType;

const T_LEN_1 = tag(1, LEN);
const T_LEN_2 = tag(2, LEN);
const T_LEN_3 = tag(3, LEN);

/**
 * Decodes a binary `ExportLogsServiceRequest` (opentelemetry.proto.collector.logs.v1).
 * Hand-written for the receiver's hot path; tested against the official OTel JS encoder.
 */
export function decodeLogsRequestProto(
  buf: Buffer,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  meter?: DecodeMeter,
): LogsRequest {
  return decoding(() => readRequest(new ProtoReader(buf), new DecodeState(limits, meter)));
}

function readRequest(r: ProtoReader, st: DecodeState): LogsRequest {
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < r.end) {
    const t = r.uint32();
    if (t === T_LEN_1) {
      st.addResourceLogs(1);
      resourceLogs.push(readResourceLogs(r, r.delimitedEnd(), st));
    } else r.skipField(t & 7, t >>> 3);
  }
  return { resourceLogs };
}

function readResourceLogs(r: ProtoReader, end: number, st: DecodeState): ResourceLogs {
  const out: ResourceLogs = { resource: undefined, scopeLogs: [], schemaUrl: '' };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case T_LEN_1:
        out.resource = readResource(r, r.delimitedEnd(), st);
        break;
      case T_LEN_2:
        st.addScopeLogs(1);
        out.scopeLogs.push(readScopeLogs(r, r.delimitedEnd(), st));
        break;
      case T_LEN_3:
        out.schemaUrl = r.string();
        break;
      default:
        r.skipField(t & 7, t >>> 3);
    }
  }
  expectEnd(r, end);
  refuseMalformed(r, 'a ResourceLogs (schema_url)');
  return out;
}

function readResource(r: ProtoReader, end: number, st: DecodeState): Resource {
  const out: Resource = { attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case T_LEN_1:
        if (out.attributes.length >= st.maxElements) throw tooManyElements(st.limits, "a resource's attributes");
        st.addElements(1);
        out.attributes.push(readKeyValue(r, r.delimitedEnd(), 0, st));
        break;
      case tag(2, 0):
        out.droppedAttributesCount = r.uint32();
        break;
      default:
        r.skipField(t & 7, t >>> 3);
    }
  }
  expectEnd(r, end);
  refuseMalformed(r, 'a resource');
  return out;
}

function readScopeLogs(r: ProtoReader, end: number, st: DecodeState): ScopeLogs {
  const out: ScopeLogs = { scope: undefined, logRecords: [], schemaUrl: '' };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case T_LEN_1:
        out.scope = readScope(r, r.delimitedEnd(), st);
        break;
      case T_LEN_2:
        st.addRecords(1);
        out.logRecords.push(readLogRecord(r, r.delimitedEnd(), st));
        break;
      case T_LEN_3:
        out.schemaUrl = r.string();
        break;
      default:
        r.skipField(t & 7, t >>> 3);
    }
  }
  expectEnd(r, end);
  refuseMalformed(r, 'a ScopeLogs (schema_url)');
  return out;
}

function readScope(r: ProtoReader, end: number, st: DecodeState): InstrumentationScope {
  const out: InstrumentationScope = { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case T_LEN_1:
        out.name = r.string();
        break;
      case T_LEN_2:
        out.version = r.string();
        break;
      case T_LEN_3:
        if (out.attributes.length >= st.maxElements) throw tooManyElements(st.limits, "a scope's attributes");
        st.addElements(1);
        out.attributes.push(readKeyValue(r, r.delimitedEnd(), 0, st));
        break;
      case tag(4, 0):
        out.droppedAttributesCount = r.uint32();
        break;
      default:
        r.skipField(t & 7, t >>> 3);
    }
  }
  expectEnd(r, end);
  refuseMalformed(r, 'an instrumentation scope');
  return out;
}

const T_TIME = tag(1, 1);
const T_SEVERITY_NUMBER = tag(2, 0);
const T_SEVERITY_TEXT = tag(3, LEN);
const T_BODY = tag(5, LEN);
const T_ATTRIBUTES = tag(6, LEN);
const T_DROPPED = tag(7, 0);
const T_FLAGS = tag(8, 5);
const T_TRACE_ID = tag(9, LEN);
const T_SPAN_ID = tag(10, LEN);
const T_OBSERVED_TIME = tag(11, 1);
const T_EVENT_NAME = tag(12, LEN);

function readLogRecord(r: ProtoReader, end: number, st: DecodeState): LogRecord {
  const out = newLogRecord();
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case T_ATTRIBUTES:
        if (out.attributes.length >= st.maxElements) throw tooManyElements(st.limits, "a log record's attributes");
        st.addElements(1);
        out.attributes.push(readKeyValue(r, r.delimitedEnd(), 0, st));
        break;
      case T_TIME:
        out.timeUnixNano = r.fixed64();
        break;
      case T_OBSERVED_TIME:
        out.observedTimeUnixNano = r.fixed64();
        break;
      case T_SEVERITY_NUMBER:
        out.severityNumber = r.int32();
        break;
      case T_SEVERITY_TEXT:
        out.severityText = r.string();
        break;
      case T_BODY:
        out.body = readAnyValue(r, r.delimitedEnd(), 0, st);
        break;
      case T_DROPPED:
        out.droppedAttributesCount = r.uint32();
        break;
      case T_FLAGS:
        out.flags = r.fixed32();
        break;
      case T_TRACE_ID:
        out.traceId = r.hex();
        break;
      case T_SPAN_ID:
        out.spanId = r.hex();
        break;
      case T_EVENT_NAME:
        out.eventName = r.string();
        break;
      default:
        r.skipField(t & 7, t >>> 3);
    }
    if (r.malformed) {
      r.malformed = false;
      out.malformedField ??= malformedFieldOf(t, out);
    }
  }
  expectEnd(r, end);
  return out;
}

/** The field of a record that the string just read belongs to. */
function malformedFieldOf(t: number, record: LogRecord): string {
  if (t === T_ATTRIBUTES) return record.attributes[record.attributes.length - 1]!.key;
  if (t === T_BODY) return 'body';
  return t === T_SEVERITY_TEXT ? 'SeverityText' : 'EventName';
}

/** Resource, scope and schema strings are shared by many records: invalid UTF-8 there refuses the request. */
function refuseMalformed(r: ProtoReader, what: string): void {
  if (r.malformed) throw new OtlpDecodeError(`${what} holds a string that is not valid UTF-8`);
}

function readKeyValue(r: ProtoReader, end: number, depth: number, st: DecodeState): KeyValue {
  let key = '';
  let value: AnyValue = null;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === T_LEN_1) key = r.key();
    else if (t === T_LEN_2) value = readAnyValue(r, r.delimitedEnd(), depth, st);
    else r.skipField(t & 7, t >>> 3);
  }
  expectEnd(r, end);
  return { key, value };
}

const T_STRING = tag(1, LEN);
const T_BOOL = tag(2, 0);
const T_INT = tag(3, 0);
const T_DOUBLE = tag(4, 1);
const T_ARRAY = tag(5, LEN);
const T_KVLIST = tag(6, LEN);
const T_BYTES = tag(7, LEN);

function readAnyValue(r: ProtoReader, end: number, depth: number, st: DecodeState): AnyValue {
  let value: AnyValue = null;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case T_STRING:
        value = r.string();
        break;
      case T_BOOL:
        value = r.bool();
        break;
      case T_INT:
        value = r.int64();
        break;
      case T_DOUBLE:
        value = r.double();
        break;
      case T_ARRAY:
        value = readArray(r, r.delimitedEnd(), depth + 1, st);
        break;
      case T_KVLIST:
        value = readKvList(r, r.delimitedEnd(), depth + 1, st);
        break;
      case T_BYTES:
        value = r.bytes();
        break;
      default:
        r.skipField(t & 7, t >>> 3);
    }
  }
  expectEnd(r, end);
  return value;
}

function checkDepth(depth: number, st: DecodeState): void {
  if (depth > st.limits.maxDepth) throw tooDeep(st.limits);
}

function readArray(r: ProtoReader, end: number, depth: number, st: DecodeState): AnyValue[] {
  checkDepth(depth, st);
  const values: AnyValue[] = [];
  while (r.pos < end) {
    const t = r.uint32();
    if (t === T_LEN_1) {
      if (values.length >= st.maxElements) throw tooManyElements(st.limits, 'an array value');
      st.addElements(1);
      values.push(readAnyValue(r, r.delimitedEnd(), depth, st));
    } else r.skipField(t & 7, t >>> 3);
  }
  expectEnd(r, end);
  return values;
}

function readKvList(r: ProtoReader, end: number, depth: number, st: DecodeState): KeyValueList {
  checkDepth(depth, st);
  const values: KeyValue[] = [];
  while (r.pos < end) {
    const t = r.uint32();
    if (t === T_LEN_1) {
      if (values.length >= st.maxElements) throw tooManyElements(st.limits, 'a kvlist value');
      st.addElements(1);
      values.push(readKeyValue(r, r.delimitedEnd(), depth, st));
    } else r.skipField(t & 7, t >>> 3);
  }
  expectEnd(r, end);
  return new KeyValueList(values);
}

function expectEnd(r: ProtoReader, end: number): void {
  if (r.pos !== end) throw new OtlpDecodeError(`field overruns its enclosing message at byte ${r.pos}`);
}

/**
 * Parts of a binary request decoded on their own, from the bytes of the message (`buf[start, end)`,
 * without its tag and length), with the same checks and errors: the protobuf fast path of the
 * pipeline decodes only the records it leaves to the reference mapping (and their resource and scope).
 */
export function decodeLogRecordAt(
  buf: Buffer,
  start: number,
  end: number,
  limits: DecodeLimits,
  meter?: DecodeMeter,
): LogRecord {
  return decoding(() => readLogRecord(new ProtoReader(buf, start, end), end, new DecodeState(limits, meter)));
}

export function decodeResourceAt(
  buf: Buffer,
  start: number,
  end: number,
  limits: DecodeLimits,
  meter?: DecodeMeter,
): Resource {
  return decoding(() => readResource(new ProtoReader(buf, start, end), end, new DecodeState(limits, meter)));
}

export function decodeScopeAt(
  buf: Buffer,
  start: number,
  end: number,
  limits: DecodeLimits,
  meter?: DecodeMeter,
): InstrumentationScope {
  return decoding(() => readScope(new ProtoReader(buf, start, end), end, new DecodeState(limits, meter)));
}
