import { KeyValueList, type AnyValue, type KeyValue } from '@otel-audit/semconv';
import type { InstrumentationScope, LogRecord, Resource } from '../model/otlp-logs.js';

/** OTLP/JSON encodings of model parts, used where a record is kept as received (dead letters). */

export type OtlpJsonAnyValue = Record<string, unknown>;

export function anyValueToOtlpJson(v: AnyValue): OtlpJsonAnyValue {
  if (v === null) return {};
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'bigint':
      return { intValue: v.toString() };
    case 'number':
      return { doubleValue: Number.isFinite(v) ? v : String(v) };
    default:
      if (v instanceof Uint8Array) {
        return { bytesValue: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
      }
      if (v instanceof KeyValueList) return { kvlistValue: { values: keyValuesToOtlpJson(v.values) } };
      return { arrayValue: { values: v.map(anyValueToOtlpJson) } };
  }
}

export function keyValuesToOtlpJson(kvs: readonly KeyValue[]): { key: string; value: OtlpJsonAnyValue }[] {
  return kvs.map((kv) => ({ key: kv.key, value: anyValueToOtlpJson(kv.value) }));
}

export function logRecordToOtlpJson(r: LogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.timeUnixNano !== 0n) out['timeUnixNano'] = r.timeUnixNano.toString();
  if (r.observedTimeUnixNano !== 0n) out['observedTimeUnixNano'] = r.observedTimeUnixNano.toString();
  if (r.severityNumber !== 0) out['severityNumber'] = r.severityNumber;
  if (r.severityText !== '') out['severityText'] = r.severityText;
  if (r.eventName !== '') out['eventName'] = r.eventName;
  if (r.body !== null) out['body'] = anyValueToOtlpJson(r.body);
  if (r.attributes.length > 0) out['attributes'] = keyValuesToOtlpJson(r.attributes);
  if (r.droppedAttributesCount !== 0) out['droppedAttributesCount'] = r.droppedAttributesCount;
  if (r.flags !== 0) out['flags'] = r.flags;
  if (r.traceId !== '') out['traceId'] = r.traceId;
  if (r.spanId !== '') out['spanId'] = r.spanId;
  return out;
}

export function resourceToOtlpJson(r: Resource | undefined): Record<string, unknown> | undefined {
  if (r === undefined) return undefined;
  return { attributes: keyValuesToOtlpJson(r.attributes), droppedAttributesCount: r.droppedAttributesCount };
}

export function scopeToOtlpJson(s: InstrumentationScope | undefined): Record<string, unknown> | undefined {
  if (s === undefined) return undefined;
  return { name: s.name, version: s.version, attributes: keyValuesToOtlpJson(s.attributes) };
}
