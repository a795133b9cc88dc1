import { KeyValueList, type AnyValue, type KeyValue } from '../src/index.js';

export type Plain = string | boolean | number | bigint | Plain[] | { [k: string]: Plain } | null;

/** AnyValue from a plain JS value: objects become kvlists, integers stay doubles unless bigint. */
export function toAnyValue(v: Plain): AnyValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toAnyValue);
  return new KeyValueList(Object.entries(v).map(([key, value]) => ({ key, value: toAnyValue(value) })));
}

export function kv(obj: Record<string, Plain>): KeyValue[] {
  return Object.entries(obj).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}
