import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { crc32, crc32Js } from '../../src/spool/crc32.js';
import { Spool, type SpoolOptions } from '../../src/spool/spool.js';
import { BackpressureError } from '../../src/model/errors.js';
import type { SpoolInput } from '../../src/model/spooled-record.js';
import { createLogger } from '../../src/telemetry/logger.js';

const logger = createLogger('silent');

function input(n: number, extra: Partial<SpoolInput> = {}): SpoolInput {
  const uuid = randomUUID();
  return {
    uuid,
    eventName: 'audit.security_event',
    eventTime: 1_700_000_000_000 + n,
    receivedAt: Date.now(),
    tenantSubdomain: undefined,
    splunk: {},
    targets: undefined,
    json: JSON.stringify({ message_uuid: uuid, n, pad: 'x'.repeat(100) }),
    ...extra,
  };
}

describe('spool', () => {
  let dir: string;
  let damaged: number;
  const options = (o: Partial<SpoolOptions> = {}): SpoolOptions => ({
    directory: dir,
    maxSizeBytes: 64 * 1024 * 1024,
    segmentSizeBytes: 1024 * 1024,
    cacheBytes: 1024 * 1024,
    consumers: ['a', 'b'],
    logger,
    cursorFlushMs: 5,
    observer: { onDamage: (b) => (damaged += b) },
    ...o,
  });

  /** Spools and readers a test opened: closed after it, also when it fails (closing twice is a no-op). */
  const opened: { close(): Promise<void> }[] = [];
  const openSpool = async (o: SpoolOptions) => {
    const spool = await Spool.open(o);
    opened.push(spool);
    return spool;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-spool-'));
    damaged = 0;
  });
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  async function readAll(spool: Spool, consumer: string, expected: number, commit = true) {
    const reader = spool.reader(consumer);
    const out: { seq: number; n: number; uuid: string }[] = [];
    try {
      while (out.length < expected) {
        const abort = AbortSignal.timeout(2000);
        const batch = await reader.read(100, 1024 * 1024, abort);
        assert.ok(batch, `only ${out.length} of ${expected} records could be read`);
        for (const r of batch.records)
          out.push({ seq: r.seq, n: (JSON.parse(r.json) as { n: number }).n, uuid: r.uuid });
        if (commit) spool.commitCursor(consumer, batch.end);
      }
    } finally {
      await reader.close();
    }
    return out;
  }

  it('computes CRC-32 like zlib', () => {
    const data = Buffer.from('123456789');
    assert.equal(crc32(data), 0xcbf43926);
    assert.equal(crc32Js(data), 0xcbf43926);
    assert.equal(crc32Js(Buffer.from('456789'), crc32Js(Buffer.from('123'))), 0xcbf43926);
  });

  it('a reader that waits for data many times leaves no listener on the long-lived abort signal', async () => {
    const spool = await openSpool(options({ consumers: ['a'] }));
    const reader = spool.reader('a');
    opened.push(reader);
    const stop = new AbortController();
    for (let i = 0; i < 50; i++) {
      const reading = reader.read(100, 1024 * 1024, stop.signal);
      await new Promise((r) => setImmediate(r)); // let the reader reach its wait at the head
      await spool.append([input(i)]);
      const batch = await reading;
      assert.equal(batch?.records.length, 1);
      spool.commitCursor('a', batch.end);
    }
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    await reader.close();
    await spool.close();
  });

  it('delivers every record to every consumer, in order, across segments and restarts', async () => {
    let spool = await openSpool(options({ segmentSizeBytes: 8 * 1024 }));
    const inputs = Array.from({ length: 300 }, (_, i) => input(i));
    await Promise.all([spool.append(inputs.slice(0, 100)), spool.append(inputs.slice(100, 200))]);
    for (let i = 200; i < 300; i += 10) await spool.append(inputs.slice(i, i + 10));
    const a = await readAll(spool, 'a', 300);
    assert.deepEqual(
      a.map((r) => r.n),
      inputs.map((_, i) => i),
    );
    assert.deepEqual(
      a.map((r) => r.seq),
      inputs.map((_, i) => i + 1),
    );
    assert.ok((await readdir(join(dir))).filter((f) => f.endsWith('.seg')).length > 3);
    await spool.close();

    // b never read: after a restart it gets everything, from disk.
    spool = await openSpool(options({ segmentSizeBytes: 8 * 1024 }));
    const b = await readAll(spool, 'b', 300);
    assert.deepEqual(
      b.map((r) => r.uuid),
      inputs.map((i) => i.uuid),
    );
    // a resumes after what it committed: nothing left.
    assert.deepEqual(spool.backlog('a').records, 0);
    await spool.close();
  });

  it('deletes a segment once every consumer is past it', async () => {
    const spool = await openSpool(options({ segmentSizeBytes: 4 * 1024 }));
    await spool.append(Array.from({ length: 100 }, (_, i) => input(i)));
    for (let i = 0; i < 5; i++) await spool.append([input(100 + i)]);
    const segments = async () => (await readdir(dir)).filter((f) => f.endsWith('.seg')).length;
    const before = await segments();
    await readAll(spool, 'a', 105);
    await spool.persistCursors();
    assert.equal(await segments(), before, 'b has read nothing: nothing may be deleted');
    await readAll(spool, 'b', 105);
    await spool.persistCursors();
    assert.equal(await segments(), 1);
    await spool.close();
  });

  it('refuses appends past max_size with a retryable error, and takes them again once space frees', async () => {
    const spool = await openSpool(options({ maxSizeBytes: 20 * 1024, segmentSizeBytes: 4 * 1024, consumers: ['a'] }));
    let stored = 0;
    let refused: unknown;
    for (let i = 0; i < 500 && refused === undefined; i++) {
      try {
        await spool.append([input(i)]);
        stored++;
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused instanceof BackpressureError, String(refused));
    assert.ok(refused.retryAfterMs > 0);
    assert.match(spool.unavailable() ?? '', /spool full/);
    await readAll(spool, 'a', stored);
    await spool.persistCursors();
    await spool.append([input(999)]);
    assert.equal(spool.unavailable(), undefined);
    await spool.close();
  });

  it('recovers from a torn tail: everything before it is kept, the tail is cut off', async () => {
    let spool = await openSpool(options({ consumers: ['a'] }));
    const inputs = Array.from({ length: 50 }, (_, i) => input(i));
    await spool.append(inputs);
    await spool.close();
    const seg = join(
      dir,
      (await readdir(dir)).find((f) => f.endsWith('.seg'))!,
    );
    const size = (await stat(seg)).size;
    await truncate(seg, size - 37); // the last stored record cut short

    spool = await openSpool(options({ consumers: ['a'] }));
    assert.ok(damaged > 0, 'a stored record is gone: counted as damage');
    const a = await readAll(spool, 'a', 49);
    assert.deepEqual(
      a.map((r) => r.uuid),
      inputs.slice(0, 49).map((i) => i.uuid),
    );
    await spool.append([input(100)]);
    const more = await readAll(spool, 'a', 1);
    assert.equal(more[0]!.n, 100);
    assert.equal(more[0]!.seq, 51, 'sequence continues after the records known to have been stored');
    await spool.close();
  });

  it('cuts off a write the crash left unfinished without counting it as damage', async () => {
    let spool = await openSpool(options({ consumers: ['a'] }));
    const inputs = Array.from({ length: 50 }, (_, i) => input(i));
    await spool.append(inputs);
    await spool.close();
    const seg = join(
      dir,
      (await readdir(dir)).find((f) => f.endsWith('.seg'))!,
    );
    const bytes = await readFile(seg);
    const fh = await open(seg, 'a');
    await fh.write(bytes.subarray(0, 45)); // the start of one more entry: never acknowledged
    await fh.close();

    spool = await openSpool(options({ consumers: ['a'] }));
    assert.equal(damaged, 0);
    assert.equal((await stat(seg)).size, bytes.length);
    const a = await readAll(spool, 'a', 50);
    assert.equal(a.length, 50);
    await spool.append([input(100)]);
    assert.equal((await readAll(spool, 'a', 1))[0]!.seq, 51);
    await spool.close();
  });

  it('skips scribbled-over entries in the middle and at the end without crashing', async () => {
    let spool = await openSpool(options({ consumers: ['a'] }));
    const inputs = Array.from({ length: 40 }, (_, i) => input(i));
    await spool.append(inputs);
    await spool.close();
    const seg = join(
      dir,
      (await readdir(dir)).find((f) => f.endsWith('.seg'))!,
    );
    const bytes = await readFile(seg);
    const entry = bytes.length / 40;
    const fh = await open(seg, 'r+');
    await fh.write(Buffer.from('garbage!garbage!'), 0, 16, Math.floor(entry * 10 + 30)); // damage record 10
    await fh.write(Buffer.alloc(50, 0xff), 0, 50, bytes.length - 60); // damage the last record
    await fh.close();

    spool = await openSpool(options({ consumers: ['a'] }));
    const got = await readAll(spool, 'a', 38);
    const expected = inputs.filter((_, i) => i !== 10 && i !== 39).map((i) => i.uuid);
    assert.deepEqual(
      got.map((r) => r.uuid),
      expected,
    );
    assert.ok(damaged > 0);
    await spool.close();
  });

  it('starts a new consumer at the end and drops cursors of removed ones', async () => {
    let spool = await openSpool(options({ consumers: ['a'] }));
    await spool.append([input(1), input(2)]);
    await spool.close();
    spool = await openSpool(options({ consumers: ['a', 'c'] }));
    assert.equal(spool.backlog('c').records, 0);
    assert.equal(spool.backlog('a').records, 2);
    await spool.close();
    spool = await openSpool(options({ consumers: ['c'] }));
    const cursors = JSON.parse(await readFile(join(dir, 'cursors.json'), 'utf8')) as {
      consumers: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(cursors.consumers), ['c']);
    await spool.close();
  });

  it('gives records addressed to one exporter only to that exporter', async () => {
    const spool = await openSpool(options());
    const forA = input(1, { targets: ['a'] });
    const all = input(2);
    await spool.append([forA, all]);
    assert.deepEqual(
      (await readAll(spool, 'a', 2)).map((r) => r.uuid),
      [forA.uuid, all.uuid],
    );
    assert.deepEqual(
      (await readAll(spool, 'b', 1)).map((r) => r.uuid),
      [all.uuid],
    );
    await spool.close();
  });

  it('survives an empty last segment after a roll and a cursor file written by an older run', async () => {
    let spool = await openSpool(options({ segmentSizeBytes: 2 * 1024, consumers: ['a'] }));
    await spool.append(Array.from({ length: 30 }, (_, i) => input(i)));
    await spool.close();
    const names = (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
    const nextId = Number(names.at(-1)!.slice(0, 20)) + 1;
    await writeFile(join(dir, `${String(nextId).padStart(20, '0')}.seg`), '');
    spool = await openSpool(options({ segmentSizeBytes: 2 * 1024, consumers: ['a'] }));
    await spool.append([input(100)]);
    const got = await readAll(spool, 'a', 31);
    assert.equal(got.at(-1)!.seq, 31);
    await spool.close();
  });
});
