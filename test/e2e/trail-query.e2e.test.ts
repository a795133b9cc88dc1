/**
 * `otel-audit query` and `otel-audit report` over a generated trail of the six event types written
 * by the file exporter across many rotated files (one of them gzipped by hand): every filter, report
 * and SQL query gives exactly what the generated records say.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonRows, otelAudit } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { fileExporterConfig, START, trailRecords, writeTrail, type TrailRecord } from '../support/trail-fixture.js';
import { rotatedNames } from '../support/rotated.js';

const N = 1200;
const uuids = (rows: Record<string, unknown>[]) => rows.map((r) => r['message_uuid'] as string);
const byTime = (a: TrailRecord, b: TrailRecord) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0);

function countBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) {
    const k = key(i);
    if (k !== undefined) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe('otel-audit query and report', { timeout: 180_000 }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let records: TrailRecord[];
  let q: (...args: string[]) => ReturnType<typeof otelAudit>;

  before(async () => {
    ({ dir, cleanup } = await tempDir('otel-audit-trail-'));
    records = trailRecords(N);
    await writeTrail(fileExporterConfig(join(dir, 'audit.jsonl')), records);
    const rotated = await rotatedNames(dir);
    assert.ok(rotated.length >= 10, `rotated files: ${rotated.length}`);
    execFileSync('gzip', [join(dir, rotated[0]!)]);
    await writeFile(
      join(dir, 'config.yaml'),
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { file: { path: ${join(dir, 'audit.jsonl')} } }
extensions: { storage: { directory: ${join(dir, 'spool')} } }
service: { pipelines: { audit: { receivers: [otlp], exporters: [file] } } }
`,
    );
    q = (...args) => otelAudit([...args, '--path', dir]);
  });
  after(async () => {
    await cleanup();
  });

  it('prints every record as stored, in time order, from the active, rotated and .gz files', () => {
    const r = q('query', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, N);
    assert.deepEqual(
      uuids(lines.map((l) => JSON.parse(l) as Record<string, unknown>)),
      records.map((x) => x.uuid),
    );
    for (const [i, l] of lines.entries()) assert.ok(l.startsWith(records[i]!.json.slice(0, -1)), 'the stored line');
  });

  it('finds the same records through --config as through --path', () => {
    const r = otelAudit(['query', '--config', join(dir, 'config.yaml'), '--user', 'bob', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      uuids(jsonRows(r.stdout)),
      records.filter((x) => x.user === 'bob').map((x) => x.uuid),
    );
  });

  it('filters by time, category, user, tenant, object type, data subject and text', () => {
    const since = new Date(START + 24 * 3_600_000).toISOString();
    const until = new Date(START + 48 * 3_600_000).toISOString();
    const cases: [string[], (x: TrailRecord) => boolean][] = [
      [['--since', since, '--until', until], (x) => x.time >= since && x.time < until],
      [['--category', 'audit.data-modification'], (x) => x.category === 'audit.data-modification'],
      [['--category', 'configuration'], (x) => x.category === 'audit.configuration'],
      [['--user', 'carol', '--tenant', 'zone-a'], (x) => x.user === 'carol' && x.tenant === 'zone-a'],
      [['--object-type', 'record-1'], (x) => x.objectType === 'record-1'],
      [['--subject', 'customer_id=7'], (x) => x.subject?.id['customer_id'] === '7'],
      [['--text', 'LOGIN FAILED'], (x) => x.eventName === 'audit.security_event' && x.success !== true],
    ];
    for (const [args, match] of cases) {
      const r = q('query', ...args, '--format', 'json');
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      const expected = records.filter(match).map((x) => x.uuid);
      assert.ok(expected.length > 0, args.join(' '));
      assert.deepEqual(uuids(jsonRows(r.stdout)), expected, args.join(' '));
    }
  });

  it('takes durations before now and limits', () => {
    const r = q('query', '--since', '3650d', '--limit', '5', '--format', 'json');
    assert.deepEqual(
      uuids(jsonRows(r.stdout)),
      records.slice(0, 5).map((x) => x.uuid),
    );
    assert.equal(q('query', '--since', '1h', '--format', 'json').stdout, '');
  });

  it('writes csv with the audit columns and a table that fits the terminal', () => {
    const csv = q('query', '--user', 'alice', '--format', 'csv', '--limit', '3');
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\r\n');
    assert.equal(lines[0], 'message_uuid,time,category,tenant,user,success,message,resource,file,line');
    assert.equal(lines.length, 4);
    const alice = records.filter((x) => x.user === 'alice');
    assert.ok(lines[1]!.startsWith(`${alice[0]!.uuid},${alice[0]!.time},${alice[0]!.category},`));
    const table = otelAudit(['query', '--path', dir, '--limit', '50'], { env: { COLUMNS: '80' } });
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 51);
    assert.match(rows[0]!, /^time\s+category\s+user\s+tenant\s+success/);
    for (const row of rows) assert.ok(row.length <= 80, `${row.length}: ${row}`);
  });

  it('runs SQL over the audit view with file and line', () => {
    const r = q(
      'query',
      '--sql',
      `SELECT category, count(*) AS n, min(time) AS first FROM audit GROUP BY category ORDER BY category`,
      '--format',
      'json',
    );
    assert.equal(r.code, 0, r.stderr);
    const expected = [...countBy(records, (x) => x.category)].sort(([a], [b]) => (a < b ? -1 : 1));
    assert.deepEqual(
      jsonRows(r.stdout),
      expected.map(([category, n]) => ({ category, n, first: records.find((x) => x.category === category)!.time })),
    );
    const last = q(
      'query',
      '--sql',
      `SELECT file, line, message->>'$.uuid' AS uuid FROM audit WHERE message_uuid = '${records[N - 1]!.uuid}'`,
      '--format',
      'json',
    );
    const row = jsonRows(last.stdout)[0]!;
    assert.equal(row['uuid'], records[N - 1]!.uuid);
    assert.match(row['file'] as string, /audit\.jsonl$/);
    const inFile = q(
      'query',
      '--sql',
      `SELECT count(*) AS n FROM audit WHERE file = '${row['file'] as string}'`,
      '--format',
      'json',
    );
    assert.equal(row['line'], jsonRows(inFile.stdout)[0]!['n']);
    const gz = q(
      'query',
      '--sql',
      `SELECT min(line) AS a, max(line) AS b, count(*) AS n FROM audit WHERE file LIKE '%.gz'`,
      '--format',
      'json',
    );
    const g = jsonRows(gz.stdout)[0]!;
    assert.equal(g['a'], 1);
    assert.equal(g['b'], g['n']);
  });

  it('reports counts by category, user, tenant, day and hour', () => {
    const keys: Record<string, (x: TrailRecord) => string> = {
      category: (x) => x.category,
      user: (x) => x.user,
      tenant: (x) => x.tenant,
      day: (x) => x.time.slice(0, 10),
      hour: (x) => `${x.time.slice(0, 13)}:00Z`,
    };
    for (const [by, key] of Object.entries(keys)) {
      const r = q('report', 'counts', '--by', by, '--format', 'json');
      assert.equal(r.code, 0, `${by}: ${r.stderr}`);
      const got = new Map(jsonRows(r.stdout).map((row) => [row[by] as string, row['count'] as number]));
      assert.deepEqual(got, countBy(records, key), by);
    }
    const since = new Date(START + 48 * 3_600_000).toISOString();
    const r = q('report', 'counts', '--by', 'day', '--since', since, '--format', 'json');
    assert.deepEqual(
      new Map(jsonRows(r.stdout).map((row) => [row['day'] as string, row['count'] as number])),
      countBy(
        records.filter((x) => x.time >= since),
        keys['day']!,
      ),
    );
  });

  it('reports last logon, failed logins and the data subjects', () => {
    const security = records.filter((x) => x.category === 'audit.security-events');
    const ok = security.filter((x) => x.success === true).sort(byTime);
    const lastLogon = jsonRows(q('report', 'last-logon', '--format', 'json').stdout);
    const expectedLast = new Map<string, { last: string; n: number }>();
    for (const x of ok) expectedLast.set(x.user, { last: x.time, n: (expectedLast.get(x.user)?.n ?? 0) + 1 });
    assert.deepEqual(
      new Map(lastLogon.map((row) => [row['user'], { last: row['last_logon'], n: row['logons'] }])),
      expectedLast,
    );
    const failed = jsonRows(q('report', 'failed-logins', '--format', 'json').stdout);
    assert.deepEqual(
      new Map(failed.map((row) => [row['user'], row['failed']])),
      countBy(
        security.filter((x) => x.success === false),
        (x) => x.user,
      ),
    );
    const subjects = jsonRows(q('report', 'subjects', '--format', 'json').stdout);
    const withSubject = records.filter((x) => x.subject !== undefined);
    const total = countBy(withSubject, (x) => x.subject!.id['customer_id']);
    assert.equal(subjects.length, total.size);
    for (const row of subjects) {
      const id = (JSON.parse(row['subject_id'] as string) as { customer_id: string }).customer_id;
      assert.equal(row['subject_type'], 'customer');
      assert.equal(row['total'], total.get(id));
      assert.equal(
        row['accesses'],
        withSubject.filter((x) => x.subject!.id['customer_id'] === id && x.category === 'audit.data-access').length,
      );
    }
    const top = subjects.map((s) => s['total'] as number);
    assert.deepEqual(
      top,
      [...top].sort((a, b) => b - a),
    );
  });

  it('refuses bad options with an error naming the option', () => {
    const cases: [string[], RegExp][] = [
      [['query', '--since', 'yesterday'], /--since must be an RFC 3339 time/],
      [['query', '--until', '2026-13-45'], /--until must be/],
      [['query', '--category', 'audit.logins'], /--category must be one of audit\.security-events/],
      [['query', '--format', 'xml'], /--format must be one of table, json, csv/],
      [['query', '--limit', '0'], /--limit must be a positive whole number/],
      [['query', '--subject', 'customer'], /--subject must be KEY=VALUE/],
      [['query', '--bogus'], /Unknown option '--bogus'/],
      [['query', '--sql', 'SELECT 1', '--user', 'x'], /--user cannot be combined with --sql/],
      [['query', '--since', '2026-11-22', '--until', '2026-11-21'], /--since must be before --until/],
      [['report'], /report needs a kind: counts, last-logon, failed-logins, subjects/],
      [['report', 'logins'], /unknown report "logins"/],
      [['report', 'counts'], /report counts needs --by/],
      [['report', 'counts', '--by', 'week'], /--by must be one of category, user, tenant, day, hour/],
      [['report', 'last-logon', '--by', 'user'], /--by is an option of report counts/],
    ];
    for (const [args, message] of cases) {
      const r = q(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const missing = otelAudit(['query', '--path', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--path .*nope: no such file or directory/);
    const badSql = q('query', '--sql', 'SELECT nope FROM audit');
    assert.equal(badSql.code, 1);
    assert.match(badSql.stderr, /nope/);
  });

  it('says how to get the trail tools when they are not installed', () => {
    const r = otelAudit(['query', '--path', dir], { env: { OTEL_AUDIT_TRAIL_MODULE: '@otel-audit/not-installed' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /npm install @otel-audit\/trail/);
    assert.match(r.stderr, /--build-arg TRAIL_TOOLS=true/);
  });
});
