import { parseArgs } from 'node:util';
import { parseTime } from './time.js';

export type Format = 'table' | 'json' | 'csv';
export const CATEGORIES = [
  'audit.security-events',
  'audit.data-access',
  'audit.data-modification',
  'audit.configuration',
] as const;
export const REPORTS = ['counts', 'last-logon', 'failed-logins', 'subjects'] as const;
export const COUNT_BY = ['category', 'user', 'tenant', 'day', 'hour'] as const;
export type Report = (typeof REPORTS)[number];
export type CountBy = (typeof COUNT_BY)[number];

/** A bad option; the message names it. */
export class OptionError extends Error {}

export interface Filters {
  readonly since: Date | undefined;
  readonly until: Date | undefined;
  readonly category: string | undefined;
  readonly user: string | undefined;
  readonly tenant: string | undefined;
  readonly objectType: string | undefined;
  readonly subject: { readonly key: string; readonly value: string } | undefined;
  readonly text: string | undefined;
}

export interface Common {
  readonly config: string | undefined;
  readonly paths: readonly string[];
  readonly format: Format;
  readonly limit: number | undefined;
  readonly filters: Filters;
  readonly help: boolean;
}

export interface QueryOptions extends Common {
  readonly sql: string | undefined;
}

export interface ReportOptions extends Common {
  readonly report: Report;
  readonly by: CountBy | undefined;
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  path: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  category: { type: 'string' },
  user: { type: 'string' },
  tenant: { type: 'string' },
  'object-type': { type: 'string' },
  subject: { type: 'string' },
  text: { type: 'string' },
  limit: { type: 'string' },
  format: { type: 'string', default: 'table' },
  sql: { type: 'string' },
  by: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new OptionError(`--${option} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

function time(option: string, value: string | undefined, now: Date): Date | undefined {
  if (value === undefined) return undefined;
  const t = parseTime(value, now);
  if (t === undefined) {
    throw new OptionError(
      `--${option} must be an RFC 3339 time (2026-11-21T10:00:00Z) or a duration before now (24h, 30d), got ${JSON.stringify(value)}`,
    );
  }
  return t;
}

function category(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return oneOf('category', value.startsWith('audit.') ? value : `audit.${value}`, CATEGORIES);
}

function parse(argv: string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
}

function common(values: Values, now: Date): Common {
  let limit: number | undefined;
  if (values.limit !== undefined) {
    if (!/^[1-9]\d*$/.test(values.limit))
      throw new OptionError(`--limit must be a positive whole number, got ${JSON.stringify(values.limit)}`);
    limit = Number(values.limit);
  }
  let subject: Filters['subject'];
  if (values.subject !== undefined) {
    const eq = values.subject.indexOf('=');
    if (eq <= 0)
      throw new OptionError(`--subject must be KEY=VALUE (a data subject id), got ${JSON.stringify(values.subject)}`);
    subject = { key: values.subject.slice(0, eq), value: values.subject.slice(eq + 1) };
  }
  const since = time('since', values.since, now);
  const until = time('until', values.until, now);
  if (since !== undefined && until !== undefined && since >= until)
    throw new OptionError('--since must be before --until');
  return {
    config: values.config,
    paths: values.path ?? [],
    format: oneOf('format', values.format, ['table', 'json', 'csv'] as const),
    limit,
    help: values.help ?? false,
    filters: {
      since,
      until,
      category: category(values.category),
      user: values.user,
      tenant: values.tenant,
      objectType: values['object-type'],
      subject,
      text: values.text,
    },
  };
}

const FILTER_OPTIONS = ['since', 'until', 'category', 'user', 'tenant', 'object-type', 'subject', 'text'] as const;

export function parseQueryOptions(argv: string[], now = new Date()): QueryOptions {
  const { values, positionals } = parse(argv);
  if (positionals.length > 0) throw new OptionError(`unexpected argument: ${positionals[0]!}`);
  if (values.by !== undefined) throw new OptionError('--by is an option of report counts, not of query');
  const options = { ...common(values, now), sql: values.sql };
  if (options.sql !== undefined) {
    const combined = FILTER_OPTIONS.find((o) => values[o] !== undefined);
    if (combined !== undefined) throw new OptionError(`--${combined} cannot be combined with --sql: filter in the SQL`);
    if (options.sql.trim() === '') throw new OptionError('--sql needs a statement');
  }
  return options;
}

export function parseReportOptions(argv: string[], now = new Date()): ReportOptions {
  const { values, positionals } = parse(argv);
  if (values.help) return { ...common(values, now), report: 'counts', by: undefined };
  if (positionals.length === 0) throw new OptionError(`report needs a kind: ${REPORTS.join(', ')}`);
  if (positionals.length > 1) throw new OptionError(`unexpected argument: ${positionals[1]!}`);
  const report = REPORTS.find((r) => r === positionals[0]);
  if (report === undefined) {
    throw new OptionError(`unknown report ${JSON.stringify(positionals[0])}: one of ${REPORTS.join(', ')}`);
  }
  if (values.sql !== undefined) throw new OptionError('--sql is an option of query, not of report');
  let by: CountBy | undefined;
  if (report === 'counts') {
    if (values.by === undefined) throw new OptionError(`report counts needs --by ${COUNT_BY.join('|')}`);
    by = oneOf('by', values.by, COUNT_BY);
  } else if (values.by !== undefined)
    throw new OptionError(`--by is an option of report counts, not of report ${report}`);
  return { ...common(values, now), report, by };
}
