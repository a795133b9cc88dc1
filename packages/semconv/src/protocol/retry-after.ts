/*
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds (1*DIGIT) or an HTTP-date in one of the three
 * forms of §5.6.7 (IMF-fixdate, the obsolete RFC 850 and asctime forms). Anything else is ignored
 * rather than guessed at, and a wait is never longer than a bound, so that a server cannot stall a
 * sender for days.
 */

/** Longest wait a `Retry-After` is honoured for; longer values are cut to it. */
export const MAX_RETRY_AFTER_MS = 10 * 60 * 1000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const DAY_LONG = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

const DELAY_SECONDS = /^\d+$/;
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC850_DATE = new RegExp(`^(?:${DAY_LONG}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994` */
const ASCTIME_DATE = new RegExp(`^(?:${DAY}) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * The wait a `Retry-After` value asks for, in milliseconds (0 for a date in the past), at most
 * `maxMs`; undefined when there is no value or it is not valid.
 */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
  maxMs: number = MAX_RETRY_AFTER_MS,
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (DELAY_SECONDS.test(text)) return Math.min(maxMs, Number(text) * 1000);
  const date = parseHttpDate(text, now);
  return date === undefined ? undefined : Math.min(maxMs, Math.max(0, date - now));
}

/** An HTTP-date as epoch milliseconds; undefined when `text` is not one or names no real time. */
export function parseHttpDate(text: string, now: number = Date.now()): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m !== null) return utc(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(text);
  if (m !== null) return utc(fullYear(Number(m[3]), now), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = ASCTIME_DATE.exec(text);
  if (m !== null) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return undefined;
}

/**
 * RFC 9110: a two-digit year that would lie more than 50 years in the future is the most recent
 * past year with the same last two digits.
 */
function fullYear(twoDigits: number, now: number): number {
  const thisYear = new Date(now).getUTCFullYear();
  let year = thisYear - (thisYear % 100) + twoDigits;
  if (year > thisYear + 50) year -= 100;
  return year;
}

function utc(year: number, month: string, day: number, hh: string, mm: string, ss: string): number | undefined {
  const [h, m, s] = [Number(hh), Number(mm), Number(ss)];
  // 60 is a leap second; Date folds it into the next minute, which is close enough for a wait.
  if (h > 23 || m > 59 || s > 60) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, MONTHS.indexOf(month), day); // (Date.UTC would read years 0-99 as 19xx)
  // Day 0 or 31 Feb roll over into another month: such a date is not a date.
  if (d.getUTCDate() !== day) return undefined;
  return d.setUTCHours(h, m, s, 0);
}
