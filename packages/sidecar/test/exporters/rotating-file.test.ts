import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RotatingFile, type RotationPolicy } from '../../src/exporters/file/rotating-file.js';
import { createLogger } from '../../src/telemetry/logger.js';

const logger = createLogger('silent');
const policy = (p: Partial<RotationPolicy>): RotationPolicy => ({
  maxBytes: 0,
  maxBackups: 0,
  maxAgeMs: 0,
  localtime: false,
  fsync: true,
  ...p,
});

describe('rotating audit file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every line of concurrent appends, in one file, in submission order', async (t) => {
    const f = new RotatingFile(join(dir, 'audit.jsonl'), policy({}), logger);
    t.after(() => f.close());
    await f.open();
    await Promise.all(Array.from({ length: 200 }, (_, i) => f.append(`{"n":${i}}\n`)));
    await f.close();
    const lines = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { n: number }).n),
      Array.from({ length: 200 }, (_, i) => i),
    );
  });

  it('rotates by size with timestamped names and keeps max_backups', async (ctx) => {
    let t = Date.UTC(2026, 10, 21, 10, 0, 0);
    const f = new RotatingFile(
      join(dir, 'audit.jsonl'),
      policy({ maxBytes: 100, maxBackups: 2 }),
      logger,
      () => new Date((t += 1000)),
    );
    ctx.after(() => f.close());
    await f.open();
    for (let i = 0; i < 10; i++) await f.append(`${JSON.stringify({ i, pad: 'x'.repeat(30) })}\n`);
    await f.close();
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, [
      'audit-2026-11-21T10-00-03.000.jsonl',
      'audit-2026-11-21T10-00-04.000.jsonl',
      'audit.jsonl',
    ]);
    for (const n of names) {
      const size = (await readFile(join(dir, n))).length;
      assert.ok(size <= 100, `${n} is ${size} bytes`);
    }
  });

  it('never splits a batch and writes an oversized batch to a fresh file', async (t) => {
    const f = new RotatingFile(join(dir, 'audit.jsonl'), policy({ maxBytes: 50 }), logger);
    t.after(() => f.close());
    await f.open();
    await f.append('{"small":1}\n');
    await f.append(`${JSON.stringify({ big: 'y'.repeat(100) })}\n`);
    await f.close();
    assert.equal((await readFile(join(dir, 'audit.jsonl'), 'utf8')).split('\n').length, 2);
    assert.equal((await readdir(dir)).length, 2);
  });

  it('deletes rotated files older than max_days', async (t) => {
    const old = join(dir, 'audit-2020-01-01T00-00-00.000.jsonl');
    const recent = join(dir, 'audit-2026-11-20T00-00-00.000.jsonl');
    await writeFile(old, '{}\n');
    await writeFile(recent, '{}\n');
    const longAgo = new Date('2020-01-01T00:00:00Z');
    await utimes(old, longAgo, longAgo);
    const f = new RotatingFile(join(dir, 'audit.jsonl'), policy({ maxBytes: 10, maxAgeMs: 7 * 86_400_000 }), logger);
    t.after(() => f.close());
    await f.open();
    await f.append('{"a":"0123456789"}\n');
    await f.append('{"b":"0123456789"}\n');
    await f.close();
    const names = await readdir(dir);
    assert.ok(!names.includes('audit-2020-01-01T00-00-00.000.jsonl'));
    assert.ok(names.includes('audit-2026-11-20T00-00-00.000.jsonl'));
  });

  it('cuts a partial last line left by a crash', async (t) => {
    const path = join(dir, 'audit.jsonl');
    await writeFile(path, '{"ok":1}\n{"ok":2}\n{"torn":');
    const f = new RotatingFile(path, policy({}), logger);
    t.after(() => f.close());
    await f.open();
    await f.append('{"ok":3}\n');
    await f.close();
    assert.equal(await readFile(path, 'utf8'), '{"ok":1}\n{"ok":2}\n{"ok":3}\n');
  });

  it('cuts a file that is one partial line', async (t) => {
    const path = join(dir, 'audit.jsonl');
    await writeFile(path, '{"torn":');
    const f = new RotatingFile(path, policy({}), logger);
    t.after(() => f.close());
    await f.open();
    await f.close();
    assert.equal(await readFile(path, 'utf8'), '');
  });

  it('rejects appends after close', async (t) => {
    const f = new RotatingFile(join(dir, 'audit.jsonl'), policy({}), logger);
    t.after(() => f.close());
    await f.open();
    await f.close();
    await assert.rejects(f.append('{}\n'), /is not open/);
  });

  it('orders same-millisecond rotations by their counter', async (t) => {
    for (const n of [
      'audit-2026-11-21T10-00-00.000.1.jsonl',
      'audit-2026-11-21T10-00-00.000.jsonl',
      'audit-2026-11-21T09-59-59.999.jsonl',
      'audit-2026-11-21T10-00-00.000.2.jsonl',
      'other.jsonl',
    ]) {
      await writeFile(join(dir, n), '{}\n');
    }
    const f = new RotatingFile(join(dir, 'audit.jsonl'), policy({}), logger);
    t.after(() => f.close());
    assert.deepEqual(
      (await f.backups()).map((p) => p.slice(dir.length + 1)),
      [
        'audit-2026-11-21T09-59-59.999.jsonl',
        'audit-2026-11-21T10-00-00.000.jsonl',
        'audit-2026-11-21T10-00-00.000.1.jsonl',
        'audit-2026-11-21T10-00-00.000.2.jsonl',
      ],
    );
  });

  it('applies retention at start as well as at rotation', async (t) => {
    for (let i = 0; i < 5; i++) await writeFile(join(dir, `audit-2026-11-2${i}T00-00-00.000.jsonl`), '{}\n');
    const f = new RotatingFile(join(dir, 'audit.jsonl'), policy({ maxBackups: 2 }), logger);
    t.after(() => f.close());
    await f.open();
    await f.close();
    assert.deepEqual((await readdir(dir)).sort(), [
      'audit-2026-11-23T00-00-00.000.jsonl',
      'audit-2026-11-24T00-00-00.000.jsonl',
      'audit.jsonl',
    ]);
  });

  it('finds the last uuids written, newest first, across rotated files and read chunks', async () => {
    const f = new RotatingFile(join(dir, 'audit.jsonl'), policy({ maxBytes: 1024 * 1024 }), logger);
    await f.open();
    const uuid = (i: number) => `u-${String(i).padStart(8, '0')}`;
    const total = 40_000;
    for (let i = 0; i < total; i += 1000) {
      let lines = '';
      for (let k = i; k < i + 1000; k++)
        lines += `${JSON.stringify({ message_uuid: uuid(k), pad: 'p'.repeat(k % 150) })}\n`;
      await f.append(lines);
    }
    assert.ok((await f.backups()).length >= 2);
    const recent = await f.recentUuids(30_000, 1 << 30);
    assert.deepEqual(
      recent,
      Array.from({ length: 30_000 }, (_, k) => uuid(total - 1 - k)),
    );
    const all = await f.recentUuids(1_000_000, 1 << 30);
    assert.equal(all.length, total);
    assert.equal(all.at(-1), uuid(0));
    const bounded = await f.recentUuids(1_000_000, 100_000);
    assert.ok(bounded.length > 0 && bounded.length < 2000, `${bounded.length}`);
    assert.deepEqual(bounded, all.slice(0, bounded.length));
    await f.close();
  });
});
