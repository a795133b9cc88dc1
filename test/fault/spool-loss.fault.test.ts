/**
 * Damaged and missing spool data, end to end: 10,000 records wait in the spool for a destination
 * that is down; the sidecar is killed; the spool files are scribbled on, cut or deleted; after the
 * restart only the records the damage really touched are missing, and each loss is logged, counted
 * in `otel_audit_spool_lost_records_total` with its true size, and listed by
 * `otel-audit replay --list-damaged` with the uuids that can still be read.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { startSidecar } from '../support/sidecar-process.js';
import { dirWithSink, httpGet, postOtlp, securityBatch, sinkConfig, sleep, until } from './helpers.js';

/** [start, end) of each entry of a segment file. */
function extents(bytes: Buffer): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let at = 0; at + 20 <= bytes.length;) {
    const end = at + 20 + bytes.readUInt32LE(at + 4);
    if (end > bytes.length) break;
    out.push({ start: at, end });
    at = end;
  }
  return out;
}

interface Damage {
  readonly name: string;
  /** Damages the spool in `queue`; returns how many records it destroys. */
  apply(queue: string, segments: string[]): Promise<number>;
  readonly cause: 'damaged' | 'missing';
}

const DAMAGES: readonly Damage[] = [
  {
    name: '100 scribbled bytes in the middle of a segment',
    cause: 'damaged',
    async apply(_queue, segments) {
      const path = segments[Math.floor(segments.length / 2)]!;
      const bytes = await readFile(path);
      // The last 100 bytes of the entry in the middle: its uuid stays readable.
      const ext = extents(bytes);
      const at = ext[Math.floor(ext.length / 2)]!.end - 100;
      const fh = await open(path, 'r+');
      await fh.write(Buffer.alloc(100, 0x23), 0, 100, at);
      await fh.close();
      return ext.filter((e) => e.start < at + 100 && e.end > at).length;
    },
  },
  {
    name: 'a deleted segment file',
    cause: 'missing',
    async apply(_queue, segments) {
      const path = segments[2]!;
      const n = extents(await readFile(path)).length;
      await unlink(path);
      return n;
    },
  },
  {
    name: 'a segment cut at an entry boundary',
    cause: 'missing',
    async apply(_queue, segments) {
      const path = segments[3]!;
      const ext = extents(await readFile(path));
      await truncate(path, ext[ext.length - 500]!.start);
      return 500;
    },
  },
  {
    name: 'the newest segment cut mid-entry, hundreds of KB from its end',
    cause: 'missing',
    async apply(_queue, segments) {
      const path = segments.at(-1)!;
      const ext = extents(await readFile(path));
      const keep = ext.length - 600;
      assert.ok(keep > 0);
      await truncate(path, ext[keep]!.start + 100);
      return 600;
    },
  },
];

describe('fault: damaged and missing spool data', () => {
  for (const damage of DAMAGES) {
    it(`${damage.name}: loses only what it touched, and reports its true size`, { timeout: 90_000 }, async (t) => {
      const defer = cleanupAfter(t);
      const { dir, sink, url } = await dirWithSink(defer);
      sink.mode = { kind: 'status', status: 503 };
      const config = sinkConfig(url, { segmentSize: '1MiB', maxSize: '512MiB' });
      let sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
      defer(() => sidecar.kill());
      const uuids: string[] = [];
      for (let i = 0; i < 100; i++) {
        const batch = securityBatch(100, 'x'.repeat(200));
        assert.equal((await postOtlp(sidecar.endpoints['otlp/http']!, batch.body)).status, 200);
        uuids.push(...batch.uuids);
      }
      await sleep(1500); // the head mark is saved about once a second
      await sidecar.stop('SIGKILL');

      const queue = join(dir, 'storage/queue');
      const segments = (await readdir(queue))
        .filter((f) => f.endsWith('.seg'))
        .sort()
        .map((f) => join(queue, f));
      assert.ok(segments.length >= 5, `${segments.length} segments`);
      const destroyed = await damage.apply(queue, segments);

      sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
      sink.mode = { kind: 'ok' };
      const expected = uuids.length - destroyed;
      await until(() => new Set(sink.received).size >= expected, 30_000, `${expected} records delivered`);
      await sleep(500);
      const got = new Set(sink.received);
      const lost = uuids.filter((u) => !got.has(u));
      assert.equal(lost.length, destroyed, `lost ${lost.length} records, the damage destroyed ${destroyed}`);

      const metrics = (await httpGet(`http://${sidecar.endpoints['telemetry']!}/metrics`)).text;
      const counted = Number(
        new RegExp(`otel_audit_spool_lost_records_total\\{cause="${damage.cause}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
      );
      assert.equal(counted, destroyed, 'counted with the true number of records');
      assert.equal(await sidecar.stop(), 0);

      const listed = spawnSync(
        process.execPath,
        [TEST_SIDECAR, 'replay', '--config', join(dir, 'config.yaml'), '--list-damaged'],
        { cwd: dir, encoding: 'utf8', timeout: 30_000 },
      );
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`damaged: \\d+ places?, ${destroyed} records lost`));
      if (damage.cause === 'damaged') {
        // The uuids the damaged bytes still show are named.
        const named = /uuids: ([^\n]+)/.exec(listed.stdout)?.[1]?.split(', ') ?? [];
        assert.ok(named.length > 0, listed.stdout);
        for (const u of named) assert.ok(lost.includes(u), `${u} is named but was delivered`);
      }
      t.diagnostic(`${damage.name}: ${destroyed} records destroyed, ${lost.length} lost, ${counted} counted`);
    });
  }
});
