import { Engine } from './engine.js';
import { OptionError, parseQueryOptions, parseReportOptions, type Common } from './options.js';
import { linesWriter, rowWriter, streamOut } from './output.js';
import { querySql, reportSql, userSql, type Statement } from './sql.js';

export { auditViewSql } from './engine.js';
export { parseTime } from './time.js';

/** What the `otel-audit` CLI hands over: how to find the audit files, and the output streams. */
export interface TrailHost {
  resolveFiles(config: string | undefined, paths: readonly string[]): Promise<string[]>;
  readonly stdout: NodeJS.WritableStream & { columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const QUERY_USAGE = `Usage: otel-audit query [--config FILE | --path FILE|DIR ...] [filters] [--limit N] [--format table|json|csv]
       otel-audit query [--config FILE | --path ...] --sql "SELECT … FROM audit …" [--format …]

Finds local records in the file exporter's audit files (rotated and .gz ones included), scanned in place.

  --since T, --until T     Time range (T: RFC 3339 or a duration before now: 24h, 30d); --until is exclusive
  --category C             audit.security-events, audit.data-access, audit.data-modification, audit.configuration
  --user U, --tenant T     Exact user / tenant
  --object-type X          message.object.type
  --subject KEY=VALUE      A data subject id (message.data_subject.id.KEY, or any of data_subjects)
  --text S                 Case-insensitive text anywhere in the stored line
  --limit N                At most N records (ordered by time)
  --format F               table (default, fits the terminal), json (the stored lines), csv
  --sql "SELECT …"         SQL over the view audit: message_uuid, time, category, tenant, user, success,
                           message (JSON), resource (JSON), file, line, raw (the stored line)
`;

export const REPORT_USAGE = `Usage: otel-audit report KIND [--config FILE | --path …] [--since T] [--until T] [filters] [--format table|json|csv]

  counts --by category|user|tenant|day|hour   Records per group
  last-logon                                  Last successful security event per user
  failed-logins                               Failed security events per user
  subjects                                    Data subjects most accessed and modified
Filters as for query (--category, --user, --tenant, --object-type, --subject, --text); --limit N.
`;

const PROGRESS_AFTER_MS = 2000;

/** The terminal's width, or $COLUMNS when the output is not a terminal, or 120. */
function terminalWidth(host: TrailHost): number {
  const fromEnv = Number(process.env['COLUMNS']);
  return host.stdout.columns ?? (Number.isInteger(fromEnv) && fromEnv > 20 ? fromEnv : 120);
}

async function run(host: TrailHost, options: Common, statement: Statement): Promise<number> {
  let files: string[];
  try {
    files = await host.resolveFiles(options.config, options.paths);
  } catch (err) {
    host.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (files.length === 0) host.stderr.write('no audit files found\n');
  const engine = await Engine.open(files, statement.lineNumbers ?? false);
  const started = Date.now();
  let shown = false;
  const progress = setInterval(() => {
    if (!host.stderr.isTTY || Date.now() - started < PROGRESS_AFTER_MS) return;
    const pct = engine.progress();
    host.stderr.write(`\rscanning ${files.length} audit files… ${pct >= 0 ? `${Math.floor(pct)}%` : ''}\x1b[K`);
    shown = true;
  }, 250);
  try {
    let rows;
    try {
      rows = await engine.stream(statement.sql, statement.params);
    } catch (err) {
      host.stderr.write(`${(err as Error).message}\n`);
      return 1;
    }
    const out = streamOut(host.stdout);
    const writer = statement.lines
      ? linesWriter(out)
      : rowWriter(options.format, out, rows.columns, terminalWidth(host));
    for await (const chunk of rows.chunks) await writer.rows(chunk);
    await writer.end();
    return 0;
  } finally {
    clearInterval(progress);
    if (shown) host.stderr.write('\r\x1b[K');
    engine.close();
  }
}

/** `otel-audit query` and `otel-audit report` (argv: the arguments after the command). */
export async function runTrailCommand(command: string, argv: string[], host: TrailHost): Promise<number> {
  const usage = command === 'report' ? REPORT_USAGE : QUERY_USAGE;
  try {
    if (command === 'query') {
      const o = parseQueryOptions(argv);
      if (o.help) return (host.stdout.write(usage), 0);
      const statement = o.sql !== undefined ? userSql(o.sql, o.limit) : querySql(o.filters, o.format, o.limit);
      return await run(host, o, statement);
    }
    if (command === 'report') {
      const o = parseReportOptions(argv);
      if (o.help) return (host.stdout.write(usage), 0);
      return await run(host, o, reportSql(o.report, o.by, o.filters, o.limit));
    }
    host.stderr.write(`unknown trail command ${command}\n`);
    return 2;
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    host.stderr.write(`${err.message}\n\n${usage}`);
    return 2;
  }
}
