/**
 * `otel-audit verify` and `keygen`: a chained, signed trail across rotation and a restart (after
 * records written before the chain was on) verifies; copies with each kind of tampering fail with
 * the file and line of the first change.
 */
import assert from 'node:assert/strict';
import { cp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { otelAudit } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { fileExporterConfig, trailRecords, writeTrail } from '../support/trail-fixture.js';

/**
 * Rotated files oldest first: by timestamp, then by the `.n` of rotations within the same
 * millisecond (a plain sort puts `<stamp>.1.jsonl` before `<stamp>.jsonl`).
 */
function byRotation(a: string, b: string): number {
  const order = (name: string): [string, number] => {
    const m = /^audit-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})(?:\.(\d+))?\.jsonl$/.exec(name);
    return m === null ? [name, 0] : [m[1]!, Number(m[2] ?? 0)];
  };
  const [sa, na] = order(a);
  const [sb, nb] = order(b);
  return sa < sb ? -1 : sa > sb ? 1 : na - nb;
}

const UNCHAINED = 30;
const N = 600;

describe('otel-audit verify', { timeout: 120_000 }, () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let trail: string;
  let key: string;
  let rotated: string[];
  let copies = 0;

  before(async () => {
    ({ dir: root, cleanup } = await tempDir('otel-audit-verify-'));
    trail = join(root, 'trail');
    const keygen = otelAudit(['keygen', '--name', 'test-trail', '--out', root]);
    assert.equal(keygen.code, 0, keygen.stderr);
    key = join(root, 'test-trail.pub');
    const records = trailRecords(UNCHAINED + N);
    const path = join(trail, 'audit.jsonl');
    const chain = { enabled: true, checkpoint_interval: '5m', signing_key_file: join(root, 'test-trail.key') };
    // Records from before the chain was turned on, then two runs (a restart in between).
    await writeTrail(
      fileExporterConfig(path, { chain: { enabled: false, checkpoint_interval: '5m' } }),
      records.slice(0, UNCHAINED),
    );
    await writeTrail(fileExporterConfig(path, { chain }), records.slice(UNCHAINED, UNCHAINED + N / 2));
    await writeTrail(fileExporterConfig(path, { chain }), records.slice(UNCHAINED + N / 2));
    rotated = (await readdir(trail)).filter((n) => /^audit-.*\.jsonl$/.test(n)).sort(byRotation);
    assert.ok(rotated.length >= 8, `rotated files: ${rotated.length}`);
  });
  after(async () => {
    await cleanup();
  });

  async function copy(): Promise<string> {
    const dir = join(root, `copy-${copies++}`);
    await cp(trail, dir, { recursive: true });
    return dir;
  }
  const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').slice(0, -1);
  const save = (file: string, ls: string[]) => writeFile(file, ls.map((l) => `${l}\n`).join(''));
  const verify = (dir: string, ...args: string[]) => otelAudit(['verify', '--path', join(dir, 'audit.jsonl'), ...args]);

  function assertFails(r: ReturnType<typeof otelAudit>, where: RegExp, what: RegExp): void {
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const failure = r.stdout.split('\n').find((l) => l.startsWith('verification failed: '));
    assert.ok(failure, r.stdout);
    assert.match(failure, where);
    assert.match(failure, what);
  }

  it('verifies the untouched trail, with signatures, and reports the unchained records', () => {
    const r = verify(trail, '--key', key);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`verified: ${UNCHAINED + N} records in ${rotated.length + 1} files`));
    assert.match(r.stdout, new RegExp(`${UNCHAINED} of them unchained in 1 files`));
    assert.match(r.stdout, /checkpoints \(signatures verified\)/);
    const dir = otelAudit(['verify', '--path', trail]);
    assert.equal(dir.code, 0, dir.stdout);
    assert.match(dir.stdout, /signatures not checked: no --key/);
  });

  it('names the file and line of an edited record', async () => {
    const dir = await copy();
    const file = join(dir, rotated[3]!);
    const ls = await lines(file);
    ls[4] = ls[4]!.replace(/"user":"[^"]+"/, '"user":"mallory"');
    await save(file, ls);
    assertFails(verify(dir), new RegExp(`${rotated[3]!.replace(/\./g, '\\.')} line 5:`), /record edited/);
  });

  it('names an inserted record', async () => {
    const dir = await copy();
    const file = join(dir, rotated[4]!);
    const ls = await lines(file);
    ls.splice(6, 0, ls[2]!);
    await save(file, ls);
    assertFails(verify(dir), new RegExp(`${rotated[4]!.replace(/\./g, '\\.')} line 7:`), /record inserted/);
  });

  it('names where a record was removed', async () => {
    const dir = await copy();
    const file = join(dir, rotated[5]!);
    const ls = await lines(file);
    ls.splice(3, 1);
    await save(file, ls);
    assertFails(
      verify(dir),
      new RegExp(`${rotated[5]!.replace(/\./g, '\\.')} line 4:`),
      /record #\d+ removed before this line/,
    );
  });

  it('names records out of order', async () => {
    const dir = await copy();
    const file = join(dir, rotated[2]!);
    const ls = await lines(file);
    [ls[2], ls[3]] = [ls[3]!, ls[2]!];
    await save(file, ls);
    assertFails(verify(dir), new RegExp(`${rotated[2]!.replace(/\./g, '\\.')} line 3:`), /records out of order/);
  });

  it('detects removed newest records through the checkpoints', async () => {
    const dir = await copy();
    const file = join(dir, 'audit.jsonl');
    const ls = await lines(file);
    await save(file, ls.slice(0, -3));
    assertFails(
      verify(dir),
      /audit\.jsonl line \d+:/,
      /the newest records were removed: the checkpoint of .* covers \d+ records/,
    );
    const empty = await copy();
    await truncate(join(empty, 'audit.jsonl'), 0);
    assertFails(verify(empty), /audit-.*\.jsonl line \d+:/, /the newest records were removed/);
  });

  it('names a missing rotated file', async () => {
    const dir = await copy();
    await rm(join(dir, rotated[4]!));
    assertFails(
      verify(dir),
      new RegExp(`${rotated[5]!.replace(/\./g, '\\.')} line 1:`),
      new RegExp(`rotated file ${rotated[4]!.replace(/\./g, '\\.')} is missing`),
    );
  });

  it('takes missing oldest files as retention with --path, as removal when the config keeps every file', async () => {
    const dir = await copy();
    for (const f of rotated.slice(0, 3)) await rm(join(dir, f));
    const r = verify(dir);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /note: the trail starts at record #\d+ .*older files were deleted by retention or removed/);
    await writeFile(
      join(dir, 'config.yaml'),
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { file: { path: ${join(dir, 'audit.jsonl')} } }
extensions: { storage: { directory: ${join(dir, 'spool')} } }
service: { pipelines: { audit: { receivers: [otlp], exporters: [file] } } }
`,
    );
    assertFails(
      otelAudit(['verify', '--config', join(dir, 'config.yaml')]),
      /line 1:/,
      /records #0–#\d+ are missing: the oldest files were removed/,
    );
  });

  it('checks checkpoint signatures with --key', async () => {
    const other = join(root, 'other');
    assert.equal(
      otelAudit(['keygen', '--name', 'test-trail', '--out', root.replace(/$/, '')]).code,
      2,
      'never overwrites a key',
    );
    await cp(trail, other, { recursive: true });
    const keygen = otelAudit(['keygen', '--name', 'other', '--out', other]);
    assert.equal(keygen.code, 0, keygen.stderr);
    assertFails(
      verify(other, '--key', join(other, 'other.pub')),
      /audit\.jsonl\.checkpoints line 1:/,
      /signature does not verify .*signed by test-trail/,
    );
    // A forged checkpoint (covering more records than exist) fails the signature with the key and the tail check without.
    const cps = join(other, 'audit.jsonl.checkpoints');
    const text = await readFile(cps, 'utf8');
    const last = JSON.parse(text.trimEnd().split('\n').at(-1)!) as { note: string };
    const [origin, size, ...rest] = last.note.split('\n');
    const forged = JSON.stringify({ note: [origin, String(Number(size) + 5), ...rest].join('\n') });
    await writeFile(cps, `${text}${forged}\n`);
    assertFails(verify(other, '--key', key), /checkpoints line \d+:/, /signature does not verify/);
    assertFails(verify(other), /audit\.jsonl line \d+:/, /the newest records were removed/);
  });

  it('refuses bad options with an error naming the option', async () => {
    const cases: [string[], RegExp][] = [
      [['verify', '--key', join(root, 'missing.pub'), '--path', trail], /--key .*missing\.pub: ENOENT/],
      [['verify', '--key', 'a+b+c', '--path', trail], /--key a\+b\+c: not an Ed25519 verifier key/],
      [['verify', '--path', join(root, 'nope')], /--path .*nope: no such file or directory/],
      [['verify', '--config', 'x.yaml', '--path', trail], /either --config or --path/],
      [['verify', '--bogus'], /Unknown option '--bogus'/],
      [['keygen', '--name', 'has space'], /--name: key name "has space" must be non-empty, without spaces or "\+"/],
    ];
    for (const [args, message] of cases) {
      const r = otelAudit(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});
