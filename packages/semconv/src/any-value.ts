/**
 * The OTel AnyValue model as the sidecar decodes it and the mapping reads it.
 * Strings, booleans and doubles are plain JS values; int64 is a bigint (so an
 * int is never confused with a double); bytes are a Uint8Array; an array is a JS
 * array; a kvlist is a {@link KeyValueList}; an AnyValue with no value set is null.
 */
export type AnyValue = string | boolean | number | bigint | Uint8Array | readonly AnyValue[] | KeyValueList | null;

export interface KeyValue {
  readonly key: string;
  readonly value: AnyValue;
}

export class KeyValueList {
  constructor(readonly values: readonly KeyValue[]) {}
}

/** The OTLP name of a value's type, for error messages. */
export function anyValueTypeName(value: AnyValue | undefined): string {
  if (value === null || value === undefined) return 'empty';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return 'double';
    case 'bigint':
      return 'int';
    default:
      if (value instanceof Uint8Array) return 'bytes';
      if (value instanceof KeyValueList) return 'kvlist';
      return 'array';
  }
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Plain JSON for an AnyValue: kvlists become objects, bytes base64, ints numbers
 * when they fit in a double exactly and decimal strings otherwise, non-finite
 * doubles strings.
 */
export function anyValueToJson(value: AnyValue): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value.toString();
    default:
      if (value instanceof Uint8Array)
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
      if (value instanceof KeyValueList) return keyValuesToJson(value.values);
      return value.map(anyValueToJson);
  }
}

/** A JSON object for a list of key/values (later duplicates win, as in most OTel backends). */
export function keyValuesToJson(values: readonly KeyValue[]): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const kv of values) setOwn(out, kv.key, anyValueToJson(kv.value));
  return out;
}

/**
 * Sets `key` as an own property of a map built from received keys. `obj[key] = value` would, for
 * the key `__proto__`, set the object's prototype instead (or do nothing, for a string value), and
 * the key would be lost silently; every other key is an ordinary own property either way (readers
 * check with `hasOwnProperty`, so `constructor` or `toString` are plain keys too).
 */
export function setOwn<T>(obj: { [key: string]: T }, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
