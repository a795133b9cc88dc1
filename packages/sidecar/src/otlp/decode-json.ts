import {
  KeyValueList,
  malformedTextField,
  MALFORMED_TEXT,
  quote,
  type AnyValue,
  type KeyValue,
} from '@otel-audit/semconv';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../model/limits.js';
import {
  type InstrumentationScope,
  type LogRecord,
  type LogsRequest,
  type Resource,
  type ResourceLogs,
  type ScopeLogs,
} from '../model/otlp-logs.js';
import { DecodeState, decoding, tooDeep, tooManyElements, type DecodeMeter } from './decode-limits.js';
import { OtlpDecodeError } from './errors.js';

/**
 * Decodes an OTLP/JSON `ExportLogsServiceRequest`: proto3 JSON with OTLP's rules — lowerCamelCase
 * keys, hex trace/span ids, 64-bit integers as decimal strings or numbers, enums as integers,
 * unknown keys ignored. Errors name the JSON path of the offending value.
 */
export function decodeLogsRequestJson(
  text: string,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
  meter?: DecodeMeter,
): LogsRequest {
  return decoding(() => readRequest(text, new DecodeState(limits, meter)));
}

/**
 * An upper bound of the memory `JSON.parse` takes for `body` (UTF-8), from one pass over its bytes:
 * the text as a string (two bytes a character at worst) and per object, array, property, value and
 * string what V8 allocates for it at most (measured on Node 20: an empty object costs 64 bytes with
 * its slot, so `[{},{},...]` grows 21 times its size). Counting characters inside strings too only
 * overestimates. JSON.parse builds the whole tree before any limit can be checked, so the receiver
 * must know this before it parses.
 */
export function jsonParseCost(body: Uint8Array): number {
  let containers = 0;
  let colons = 0;
  let commas = 0;
  let quotes = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === 0x7b || c === 0x5b) containers++;
    else if (c === 0x3a) colons++;
    else if (c === 0x2c) commas++;
    else if (c === 0x22) quotes++;
  }
  return 2 * body.length + 64 * containers + 32 * colons + 16 * commas + 12 * quotes;
}

function readRequest(text: string, st: DecodeState): LogsRequest {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  const obj = asObject(root, '$');
  const resourceLogs = obj['resourceLogs'];
  // Counted before any of it is decoded, so an oversized request is refused without building records.
  if (Array.isArray(resourceLogs)) st.addResourceLogs(resourceLogs.length);
  return { resourceLogs: list(resourceLogs, 'resourceLogs', (v, p) => readResourceLogs(v, p, st)) };
}

type Json = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new OtlpDecodeError(`${path}: ${message}`);
}

function asObject(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object, got ${kind(v)}`);
  return v as Json;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${quote(v)}`;
  // What JSON.parse gives besides: numbers and booleans.
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** A repeated field: absent/null means empty. */
function list<T>(v: unknown, path: string, read: (item: unknown, path: string) => T): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, `expected an array, got ${kind(v)}`);
  const out: T[] = new Array<T>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = read(v[i], `${path}[${i}]`);
  return out;
}

function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(path, `expected a string, got ${kind(v)}`);
  return v;
}

const UINT_PATTERN = /^\d+$/;
const INT_PATTERN = /^-?\d+$/;

/** uint32 / int32 / enum: a JSON number or a decimal string. */
function int32(v: unknown, path: string, signed: boolean): number {
  if (v === undefined || v === null) return 0;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && (signed ? INT_PATTERN : UINT_PATTERN).test(v)) n = Number(v);
  else fail(path, `expected an integer, got ${kind(v)}`);
  const min = signed ? -2147483648 : 0;
  const max = signed ? 2147483647 : 4294967295;
  if (!Number.isInteger(n) || n < min || n > max)
    fail(path, `expected a ${signed ? '' : 'u'}int32, got ${quote(String(v))}`);
  return n;
}

/** 64-bit integer: a decimal string (canonical) or a JSON number. */
function int64(v: unknown, path: string, signed: boolean): bigint {
  if (v === undefined || v === null) return 0n;
  let n: bigint;
  if (typeof v === 'string' && (signed ? INT_PATTERN : UINT_PATTERN).test(v)) n = BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v) && (signed || v >= 0)) n = BigInt(v);
  else fail(path, `expected a ${signed ? '' : 'non-negative '}64-bit integer (string or number), got ${kind(v)}`);
  if (signed ? n !== BigInt.asIntN(64, n) : n !== BigInt.asUintN(64, n))
    fail(path, `out of 64-bit range: ${quote(String(v))}`);
  return n;
}

function double(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  fail(path, `expected a number, got ${kind(v)}`);
}

const HEX_PATTERN = /^[0-9a-fA-F]*$/;

function hexId(v: unknown, path: string, bytes: number): string {
  const s = str(v, path);
  if (s === '') return '';
  if (s.length !== bytes * 2 || !HEX_PATTERN.test(s)) fail(path, `expected ${bytes * 2} hex digits, got ${quote(s)}`);
  return s.toLowerCase();
}

const BASE64_PATTERN = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64(v: unknown, path: string): Uint8Array {
  const s = str(v, path);
  if (!BASE64_PATTERN.test(s)) fail(path, 'expected base64');
  return Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
}

function readResourceLogs(v: unknown, path: string, st: DecodeState): ResourceLogs {
  const o = asObject(v, path);
  if (Array.isArray(o['scopeLogs'])) st.addScopeLogs(o['scopeLogs'].length);
  return {
    resource: o['resource'] == null ? undefined : readResource(o['resource'], `${path}.resource`, st),
    scopeLogs: list(o['scopeLogs'], `${path}.scopeLogs`, (x, p) => readScopeLogs(x, p, st)),
    schemaUrl: str(o['schemaUrl'], `${path}.schemaUrl`),
  };
}

function readResource(v: unknown, path: string, st: DecodeState): Resource {
  const o = asObject(v, path);
  const attributes = keyValues(o['attributes'], `${path}.attributes`, 0, st);
  refuseMalformed(attributes, `${path}.attributes`);
  return {
    attributes,
    droppedAttributesCount: int32(o['droppedAttributesCount'], `${path}.droppedAttributesCount`, false),
  };
}

/** Resource and scope attributes are shared by many records: a lone surrogate there refuses the request. */
function refuseMalformed(attributes: readonly KeyValue[], path: string): void {
  const key = malformedTextField(attributes);
  if (key !== undefined) fail(path, `attribute ${quote(key)} ${MALFORMED_TEXT}`);
}

function readScopeLogs(v: unknown, path: string, st: DecodeState): ScopeLogs {
  const o = asObject(v, path);
  // Counted before the records are decoded: the request is refused as soon as it passes the limit.
  if (Array.isArray(o['logRecords'])) st.addRecords(o['logRecords'].length);
  return {
    scope: o['scope'] == null ? undefined : readScope(o['scope'], `${path}.scope`, st),
    logRecords: list(o['logRecords'], `${path}.logRecords`, (x, p) => readLogRecord(x, p, st)),
    schemaUrl: str(o['schemaUrl'], `${path}.schemaUrl`),
  };
}

function readScope(v: unknown, path: string, st: DecodeState): InstrumentationScope {
  const o = asObject(v, path);
  const attributes = keyValues(o['attributes'], `${path}.attributes`, 0, st);
  refuseMalformed(attributes, `${path}.attributes`);
  return {
    name: str(o['name'], `${path}.name`),
    version: str(o['version'], `${path}.version`),
    attributes,
    droppedAttributesCount: int32(o['droppedAttributesCount'], `${path}.droppedAttributesCount`, false),
  };
}

function readLogRecord(v: unknown, path: string, st: DecodeState): LogRecord {
  const o = asObject(v, path);
  return {
    timeUnixNano: int64(o['timeUnixNano'], `${path}.timeUnixNano`, false),
    observedTimeUnixNano: int64(o['observedTimeUnixNano'], `${path}.observedTimeUnixNano`, false),
    severityNumber: int32(o['severityNumber'], `${path}.severityNumber`, true),
    severityText: str(o['severityText'], `${path}.severityText`),
    body: o['body'] == null ? null : anyValue(o['body'], `${path}.body`, 0, st),
    attributes: keyValues(o['attributes'], `${path}.attributes`, 0, st),
    droppedAttributesCount: int32(o['droppedAttributesCount'], `${path}.droppedAttributesCount`, false),
    flags: int32(o['flags'], `${path}.flags`, false),
    traceId: hexId(o['traceId'], `${path}.traceId`, 16),
    spanId: hexId(o['spanId'], `${path}.spanId`, 8),
    eventName: str(o['eventName'], `${path}.eventName`),
  };
}

function keyValues(v: unknown, path: string, depth: number, st: DecodeState): KeyValue[] {
  checkCount(v, path, st);
  return list(v, path, (item, p) => {
    const o = asObject(item, p);
    return {
      key: str(o['key'], `${p}.key`),
      value: o['value'] == null ? null : anyValue(o['value'], `${p}.value`, depth, st),
    };
  });
}

function anyValue(v: unknown, path: string, depth: number, st: DecodeState): AnyValue {
  const o = asObject(v, path);
  // A oneof: the first recognised member wins (a well-formed value has at most one).
  if ('stringValue' in o) return str(o['stringValue'], `${path}.stringValue`);
  if ('boolValue' in o) {
    const b = o['boolValue'];
    if (typeof b !== 'boolean') fail(`${path}.boolValue`, `expected true or false, got ${kind(b)}`);
    return b;
  }
  if ('intValue' in o) return int64(o['intValue'], `${path}.intValue`, true);
  if ('doubleValue' in o) return double(o['doubleValue'], `${path}.doubleValue`);
  if ('bytesValue' in o) return base64(o['bytesValue'], `${path}.bytesValue`);
  if ('arrayValue' in o) {
    if (depth + 1 > st.limits.maxDepth) throw tooDeep(st.limits);
    const arr = o['arrayValue'] == null ? {} : asObject(o['arrayValue'], `${path}.arrayValue`);
    checkCount(arr['values'], `${path}.arrayValue.values`, st);
    return list(arr['values'], `${path}.arrayValue.values`, (x, p) => anyValue(x, p, depth + 1, st));
  }
  if ('kvlistValue' in o) {
    if (depth + 1 > st.limits.maxDepth) throw tooDeep(st.limits);
    const kvl = o['kvlistValue'] == null ? {} : asObject(o['kvlistValue'], `${path}.kvlistValue`);
    return new KeyValueList(keyValues(kvl['values'], `${path}.kvlistValue.values`, depth + 1, st));
  }
  return null;
}

/** Attributes, array and kvlist values: at most {@link DecodeState.maxElements} entries each, metered. */
function checkCount(v: unknown, path: string, st: DecodeState): void {
  if (!Array.isArray(v)) return;
  if (v.length > st.maxElements) throw tooManyElements(st.limits, path);
  st.addElements(v.length);
}
