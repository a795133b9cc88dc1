/**
 * Corruption: records sit in the spool (destination down), the sidecar is killed, and the last
 * segment is truncated and scribbled on. After a restart every record stored before the damage is
 * delivered; the damage is skipped and logged with a byte count, never a crash.
 */
import assert from 'node:assert/strict';
import { open, readdir, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { startSidecar } from '../support/sidecar-process.js';
import { dirWithSink, postOtlp, securityBatch, sinkConfig, until } from './helpers.js';

/** Entry extents of a segment file: [start, end) byte ranges (20-byte header with the payload length at offset 4). */
function entryExtents(segment: Buffer): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let at = 0; at + 20 <= segment.length;) {
    const end = at + 20 + segment.readUInt32LE(at + 4);
    out.push({ start: at, end });
    at = end;
  }
  return out;
}

describe('fault: damaged spool', () => {
  it('recovers everything stored before the damage', { timeout: 60_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, sink, url } = await dirWithSink(defer);
    sink.mode = { kind: 'status', status: 503 };
    const config = sinkConfig(url, { segmentSize: '64MiB', maxSize: '512MiB' });
    let sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
    defer(() => sidecar.kill());
    const uuids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const batch = securityBatch(100);
      assert.equal((await postOtlp(sidecar.endpoints['otlp/http']!, batch.body)).status, 200);
      uuids.push(...batch.uuids);
    }
    await sidecar.stop('SIGKILL');

    const queue = join(dir, 'storage/queue');
    const name = (await readdir(queue))
      .filter((f) => f.endsWith('.seg'))
      .sort()
      .at(-1)!;
    const path = join(queue, name);
    const bytes = await readFile(path);
    const extents = entryExtents(bytes);
    assert.equal(extents.length, 1000);
    // Scribble over the middle of entry 900, then cut the file inside entry 990.
    const scribbleAt = extents[900]!.start + 40;
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from('#'.repeat(64)), 0, 64, scribbleAt);
    await fh.close();
    await truncate(path, extents[990]!.start + 30);

    sink.mode = { kind: 'ok' };
    sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
    const intact = uuids.slice(0, 990).filter((_, i) => i !== 900);
    await until(() => intact.every((u) => sink.received.includes(u)), 30_000, 'the intact records');
    const received = new Set(sink.received);
    assert.ok(!received.has(uuids[900]!), 'the scribbled record is skipped');
    for (const u of uuids.slice(990)) assert.ok(!received.has(u), 'records after the cut are gone');
    const log = sidecar.output.join('\n');
    assert.match(log, /skipped damaged spool data/);
    assert.match(log, /"bytes":\d+/);
    assert.equal(await sidecar.stop(), 0);
  });
});
