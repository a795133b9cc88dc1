import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, open, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SpooledRecord, SpoolInput } from '../../src/model/spooled-record.js';
import { CURSORS_FILE, LATEST_FILE, type CursorResetReason } from '../../src/spool/cursors.js';
import { Spool, type SpoolOptions } from '../../src/spool/spool.js';
import { createLogger } from '../../src/telemetry/logger.js';

// The compiled test runs from dist/test/spool; the data stays in the source tree.
const GOLDEN = fileURLToPath(new URL('../../../test/spool/testdata/cursors/', import.meta.url));

function input(n: number): SpoolInput {
  const uuid = randomUUID();
  return {
    uuid,
    eventName: 'audit.security_event',
    eventTime: 1_700_000_000_000 + n,
    receivedAt: Date.now(),
    tenantSubdomain: undefined,
    splunk: {},
    targets: undefined,
    json: JSON.stringify({ message_uuid: uuid, n }),
  };
}

/** Log lines a spool wrote (parsed), at level info and above. */
function logSink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n'))
        if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('spool cursors', () => {
  let dir: string;
  let resets: [string, CursorResetReason][];
  const opened: Spool[] = [];
  const options = (o: Partial<SpoolOptions> = {}): SpoolOptions => ({
    directory: dir,
    maxSizeBytes: 64 * 1024 * 1024,
    segmentSizeBytes: 1024 * 1024,
    cacheBytes: 1024 * 1024,
    consumers: ['a', 'b'],
    logger: createLogger('silent'),
    observer: { onCursorReset: (c, r) => resets.push([c, r]) },
    ...o,
  });
  const openSpool = async (o: SpoolOptions) => {
    const spool = await Spool.open(o);
    opened.push(spool);
    return spool;
  };
  async function readAll(spool: Spool, consumer: string, n: number): Promise<SpooledRecord[]> {
    const reader = spool.reader(consumer);
    const out: SpooledRecord[] = [];
    try {
      while (out.length < n) {
        const batch = await reader.read(n - out.length, 1 << 20, AbortSignal.timeout(2000));
        if (batch === undefined) break;
        out.push(...batch.records);
      }
    } finally {
      await reader.close();
    }
    return out;
  }
  /** A spool with 10 records, closed; `a` has delivered the first 4. */
  async function spoolWithRecords(): Promise<void> {
    const spool = await openSpool(options());
    await spool.append(Array.from({ length: 10 }, (_, i) => input(i)));
    const reader = spool.reader('a');
    const batch = await reader.read(4, 1 << 20);
    await reader.close();
    assert.equal(batch!.records.length, 4);
    spool.commitCursor('a', batch!.end);
    await spool.close();
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-cursors-'));
    resets = [];
  });
  afterEach(async () => {
    for (const s of opened.splice(0).reverse()) await s.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** A spool of 40 records whose cursors are the golden file `name`. */
  async function goldenCursors(name: string): Promise<void> {
    const spool = await openSpool(options({ consumers: ['file', 'sap_auditlog'] }));
    await spool.append(Array.from({ length: 40 }, (_, i) => input(i)));
    await spool.close();
    await copyFile(join(GOLDEN, name), join(dir, CURSORS_FILE));
    await unlink(join(dir, LATEST_FILE));
  }

  it('reads a version-1 cursors.json (written by earlier releases)', async () => {
    await goldenCursors('v1.json');
    const spool = await openSpool(options({ consumers: ['file', 'sap_auditlog'] }));
    assert.deepEqual(spool.progress('file'), { cursor: { segment: 1, offset: 4617, seq: 11 }, done: [] });
    assert.deepEqual(spool.progress('sap_auditlog'), { cursor: { segment: 1, offset: 0, seq: 1 }, done: [] });
    assert.deepEqual(resets, []);
  });

  it('reads and writes version 2: the finished ranges above the cursor', async () => {
    await goldenCursors('v2.json');
    const spool = await openSpool(options({ consumers: ['file', 'sap_auditlog'] }));
    assert.deepEqual(spool.progress('sap_auditlog'), {
      cursor: { segment: 1, offset: 0, seq: 1 },
      done: [
        [3, 5],
        [7, 9],
      ],
    });
    assert.deepEqual(spool.progress('file').cursor, { segment: 1, offset: 4617, seq: 11 });
    await spool.close();
    // The same bytes come back (the format is fixed: older and newer releases read it).
    assert.equal(await readFile(join(dir, CURSORS_FILE), 'utf8'), await readFile(join(GOLDEN, 'v2.json'), 'utf8'));
  });

  it('keeps what was committed when the process dies before any cursors.json rewrite', async () => {
    const spool = await openSpool(options());
    await spool.append(Array.from({ length: 10 }, (_, i) => input(i)));
    const reader = spool.reader('a');
    const batch = await reader.read(3, 1 << 20);
    await reader.close();
    spool.commitCursor('a', batch!.end, [[6, 9]]);
    await new Promise((r) => setImmediate(r)); // the write happens in this turn of the event loop
    // No close: as after SIGKILL. cursors.json still holds the start; cursors.latest has the commit.
    const snapshot = JSON.parse(await readFile(join(dir, CURSORS_FILE), 'utf8')) as {
      consumers: { a: { seq: number } };
    };
    assert.equal(snapshot.consumers.a.seq, 1);
    const again = await openSpool(options());
    assert.deepEqual(again.progress('a'), { cursor: batch!.end, done: [[6, 9]] });
    assert.deepEqual(
      (await readAll(again, 'a', 7)).map((r) => r.seq),
      [4, 5, 6, 7, 8, 9, 10],
      'the reader still reads from the cursor: the queue skips the finished ranges',
    );
  });

  it('uses the other slot of cursors.latest when the newer one is torn', async () => {
    const spool = await openSpool(options());
    await spool.append(Array.from({ length: 10 }, (_, i) => input(i)));
    const reader = spool.reader('a');
    const first = await reader.read(2, 1 << 20);
    const second = await reader.read(2, 1 << 20);
    await reader.close();
    spool.commitCursor('a', first!.end);
    await new Promise((r) => setImmediate(r));
    spool.commitCursor('a', second!.end);
    await new Promise((r) => setImmediate(r));
    // Scribble over the slot just written (as a write cut off by a power loss would leave it).
    const latest = await readFile(join(dir, LATEST_FILE));
    const slot = latest.readBigUInt64LE(12) > latest.readBigUInt64LE(65536 + 12) ? 0 : 65536;
    const fh = await open(join(dir, LATEST_FILE), 'r+');
    await fh.write(Buffer.from('torn torn torn'), 0, 14, slot + 30);
    await fh.close();
    const again = await openSpool(options());
    assert.deepEqual(again.progress('a').cursor, first!.end);
  });

  it('a lost cursors.json means: every exporter from the oldest record, logged and counted', async () => {
    await spoolWithRecords();
    await unlink(join(dir, CURSORS_FILE));
    await unlink(join(dir, LATEST_FILE));
    const { lines, logger } = logSink();
    const spool = await openSpool(options({ logger }));
    assert.deepEqual(resets, [
      ['a', 'missing'],
      ['b', 'missing'],
    ]);
    assert.equal((await readAll(spool, 'a', 10)).length, 10, 'delivered again, not skipped');
    assert.ok(lines.some((l) => l['level'] === 'warn' && /spool cursors missing/.test(String(l['msg']))));
  });

  it('a corrupt cursors.json does not stop the start: from the oldest record, the file named and kept aside', async () => {
    await spoolWithRecords();
    await writeFile(join(dir, CURSORS_FILE), '{"version":1,"consumers":{"a":{"segm');
    await unlink(join(dir, LATEST_FILE));
    const { lines, logger } = logSink();
    const spool = await openSpool(options({ logger }));
    assert.deepEqual(resets, [
      ['a', 'unreadable'],
      ['b', 'unreadable'],
    ]);
    assert.equal((await readAll(spool, 'a', 10)).length, 10);
    const line = lines.find((l) => /spool cursors unreadable/.test(String(l['msg'])));
    assert.ok(line !== undefined);
    assert.equal(line['level'], 'error');
    assert.match(String(line['reason']), new RegExp(`${CURSORS_FILE} is not valid JSON`));
    assert.equal(line['movedTo'], join(dir, `${CURSORS_FILE}.unreadable`));
    assert.equal(
      await readFile(join(dir, `${CURSORS_FILE}.unreadable`), 'utf8'),
      '{"version":1,"consumers":{"a":{"segm',
    );
  });

  it('a tool (replay) does not open a spool whose positions are lost: the sidecar recovers them first', async () => {
    await spoolWithRecords();
    await unlink(join(dir, CURSORS_FILE));
    await unlink(join(dir, LATEST_FILE));
    await assert.rejects(
      Spool.open(options({ consumers: ['a'], keepOtherCursors: true })),
      /the spool's positions are missing: start the sidecar once/,
    );
  });

  it('a corrupt cursors.json with a good cursors.latest loses no position', async () => {
    await spoolWithRecords();
    await writeFile(join(dir, CURSORS_FILE), 'garbage');
    const spool = await openSpool(options());
    assert.deepEqual(resets, []);
    assert.equal(spool.progress('a').cursor.seq, 5);
  });

  it('an invalid entry restarts only that exporter from the oldest record', async () => {
    await spoolWithRecords();
    await unlink(join(dir, LATEST_FILE));
    const file = JSON.parse(await readFile(join(dir, CURSORS_FILE), 'utf8')) as {
      consumers: Record<string, Record<string, unknown>>;
    };
    file.consumers['b'] = { segment: 1, offset: -3, seq: 'x' };
    await writeFile(join(dir, CURSORS_FILE), JSON.stringify(file));
    const spool = await openSpool(options());
    assert.deepEqual(resets, [['b', 'invalid']]);
    assert.equal(spool.progress('a').cursor.seq, 5);
    assert.equal((await readAll(spool, 'b', 10)).length, 10);
  });

  it('an exporter new in the config starts at the end, and says so', async () => {
    await spoolWithRecords();
    const { lines, logger } = logSink();
    const spool = await openSpool(options({ consumers: ['a', 'b', 'c'], logger }));
    assert.deepEqual(resets, []);
    assert.equal(spool.backlog('c').records, 0);
    const line = lines.find((l) => l['consumer'] === 'c');
    assert.match(String(line?.['msg']), /no position in the spool yet: it gets the records accepted from now on/);
    assert.equal(line?.['older'], 10); // the 10 records in the spool
  });

  it('drops finished ranges beyond the end of the spool (a machine crash lost the last writes)', async () => {
    await spoolWithRecords();
    await unlink(join(dir, LATEST_FILE));
    const file = JSON.parse(await readFile(join(dir, CURSORS_FILE), 'utf8')) as {
      consumers: Record<string, Record<string, unknown>>;
    };
    file.consumers['a']!['done'] = [
      [7, 9],
      [10, 40],
    ];
    await writeFile(join(dir, CURSORS_FILE), JSON.stringify(file));
    const spool = await openSpool(options());
    assert.deepEqual(spool.progress('a').done, [
      [7, 9],
      [10, 11],
    ]);
  });

  it('creates cursors.latest once, preallocated, and writes it in place', async () => {
    const spool = await openSpool(options());
    const { size, ino } = await stat(join(dir, LATEST_FILE));
    assert.equal(size, 128 * 1024);
    await spool.append([input(1)]);
    const reader = spool.reader('a');
    const batch = await reader.read(1, 1 << 20);
    await reader.close();
    spool.commitCursor('a', batch!.end);
    await spool.persistCursors();
    const after = await stat(join(dir, LATEST_FILE));
    assert.equal(after.size, size);
    assert.equal(after.ino, ino, 'never renamed or recreated');
  });
});
