/* Parsing of the duration and size values the config schemas accept (`5s`, `16MiB`). */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as `250ms`, `5s`, `2m`, `1h`, or a number of milliseconds, in milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(value);
  if (!m) throw new Error(`invalid duration ${value}`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}

const SIZE_UNITS: Record<string, number> = {
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

/** A size: bytes as a number, or a number with a unit (`512KiB`, `16MiB`, `1GiB`, `500MB`), in bytes. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)?$/.exec(value.trim());
  if (!m) throw new Error(`invalid size ${value}`);
  return Math.round(Number(m[1]) * (SIZE_UNITS[m[2] ?? 'B'] ?? NaN));
}
