import type { SchemaObject } from 'ajv';

/** A size: bytes as an integer, or a number with a unit (`512KiB`, `16MiB`, `1GiB`, `500MB`). */
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$';

export const SIZE_SCHEMA: SchemaObject = { type: 'string', pattern: SIZE_PATTERN };

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)?$/.exec(value.trim());
  if (!m) throw new Error(`invalid size ${value}`);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 'B'] ?? NaN));
}
