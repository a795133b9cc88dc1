const DURATION = /^(\d+)(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A time option: RFC 3339 (a date alone is midnight UTC; a time without offset is UTC) or a
 * duration before `now` (`90s`, `15m`, `24h`, `30d`, `2w`). Undefined if it is neither.
 */
export function parseTime(value: string, now: Date): Date | undefined {
  const d = DURATION.exec(value);
  if (d) return new Date(now.getTime() - Number(d[1]) * UNIT_MS[d[2]!]!);
  if (!RFC3339.test(value)) return undefined;
  const text = /[zZ]|[+-]\d{2}:?\d{2}$/.test(value.slice(10))
    ? value
    : `${value.length === 10 ? `${value}T00:00` : value}Z`;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t);
}
