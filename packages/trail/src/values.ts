import { DuckDBTimestampTZValue, DuckDBTimestampValue, type DuckDBValue } from '@duckdb/node-api';

/** A DuckDB value as a JSON value: times in RFC 3339 UTC, big integers as numbers where exact. */
export function jsonValue(v: DuckDBValue, isJson: boolean): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (!isJson) return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if ((v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue) && v.isFinite) {
    return new Date(Number(v.micros / 1000n)).toISOString();
  }
  return String(v);
}

/** A DuckDB value as text for a table cell or a CSV field. */
export function textValue(v: DuckDBValue): string {
  const j = jsonValue(v, false);
  return j === null ? '' : typeof j === 'string' ? j : JSON.stringify(j);
}
