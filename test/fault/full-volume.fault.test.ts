/**
 * Full volumes, for real: the storage directory (and the audit file) on a small tmpfs the test
 * mounts, filled to the last byte or the last inode. Proves for each case that nothing
 * acknowledged is lost, that intake resumes by itself once space frees (no operator, no restart),
 * that /readyz says when records are refused, and that a restart on the full volume works.
 * Mounting needs root (CI and these machines run tests as root); elsewhere the tests skip and say so.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { requirementMissing } from '../support/requirement.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { SinkServer } from '../support/sink-server.js';
import { tempDir } from '../support/tmp.js';
import { fillBytes, fillInodes, freeSpace, mountSmallVolume, removeFillers } from '../support/tmpfs.js';
import { httpGet, postOtlp, securityBatch, until } from './helpers.js';

function config(storage: string, exporters: string, ids: string[], extraStorage = ''): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
${exporters}
extensions:
  storage:
    directory: ${storage}
    max_size: 64MiB
    segment_size: 256KiB
    reserve_size: 512KiB
${extraStorage}service:
  shutdown_timeout: 2s
  telemetry:
    address: 127.0.0.1:0
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [${ids.join(', ')}]
`;
}

const sinkExporter = (url: string) => `  http_sink:
    endpoint: ${url}
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 300ms
`;

/** A tmpfs for the test (cleaned up after it), or undefined when mounting is not allowed (see requirementMissing). */
async function volume(t: TestContext, size: string, inodes: number) {
  const defer = cleanupAfter(t);
  const { dir, cleanup } = await tempDir('otel-audit-volume-');
  defer(cleanup);
  const mounted = await mountSmallVolume(dir, size, inodes);
  if ('skip' in mounted) {
    requirementMissing(t, mounted.skip);
    return undefined;
  }
  defer(() => mounted.unmount());
  return { defer, dir, volume: mounted };
}

/** Posts 50-record batches until one is refused; returns the uuids of the acknowledged ones and the refusal. */
async function postUntilRefused(sidecar: SidecarProcess, acked: string[], max = 2000) {
  const endpoint = sidecar.endpoints['otlp/http']!;
  for (let i = 0; i < max; i++) {
    const { body, uuids } = securityBatch(50, 'x'.repeat(300));
    const res = await postOtlp(endpoint, body);
    if (res.status !== 200) return res;
    acked.push(...uuids);
  }
  throw new Error('the volume never filled up');
}

/** Posts one batch every 200 ms until it is acknowledged (intake resumed). */
async function postUntilAccepted(sidecar: SidecarProcess, acked: string[], ms: number): Promise<void> {
  const endpoint = sidecar.endpoints['otlp/http']!;
  await until(
    async () => {
      const { body, uuids } = securityBatch(10);
      const res = await postOtlp(endpoint, body);
      if (res.status === 200) acked.push(...uuids);
      else await new Promise((r) => setTimeout(r, 200));
      return res.status === 200;
    },
    ms,
    'intake to resume',
  );
}

async function ready(sidecar: SidecarProcess): Promise<{ status: number; text: string }> {
  return httpGet(`http://${sidecar.endpoints['telemetry']!}/readyz`);
}

async function metric(sidecar: SidecarProcess, name: string): Promise<number> {
  const text = (await httpGet(`http://${sidecar.endpoints['telemetry']!}/metrics`)).text;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

describe('fault: full volume', () => {
  it('a volume the spool filled recovers by itself once records are delivered', { timeout: 90_000 }, async (t) => {
    const v = await volume(t, '6m', 2000);
    if (v === undefined) return;
    const sink = new SinkServer();
    v.defer(() => sink.close());
    const url = await sink.listen();
    sink.mode = { kind: 'status', status: 503 };
    const sidecar = await startSidecar({
      dir: v.dir,
      config: config(join(v.volume.path, 'storage'), sinkExporter(url), ['http_sink']),
      entry: TEST_SIDECAR,
    });
    v.defer(() => sidecar.kill());

    const acked: string[] = [];
    const refused = await postUntilRefused(sidecar, acked);
    assert.equal(refused.status, 503, 'a full disk is answered 503 (retry), not 429');
    const notReady = await ready(sidecar);
    assert.equal(notReady.status, 503);
    assert.match(notReady.text, /spool cannot write: .*no space left/i);
    assert.equal(await metric(sidecar, 'otel_audit_storage_volume_full'), 1);

    sink.mode = { kind: 'ok' };
    await until(() => acked.every((u) => sink.received.includes(u)), 30_000, 'every acknowledged record delivered');
    // Delivered segments are deleted (the cursor save gets room from the reserve): intake resumes.
    await postUntilAccepted(sidecar, acked, 20_000);
    await until(async () => (await ready(sidecar)).status === 200, 10_000, '/readyz to be 200 again');
    assert.equal(await metric(sidecar, 'otel_audit_storage_volume_full'), 0);
    await until(() => acked.every((u) => sink.received.includes(u)), 10_000, 'the records taken after recovery');
    assert.equal(await sidecar.stop(), 0);
    const log = sidecar.output.join('\n');
    assert.match(log, /the storage volume is full: refusing records until space frees/);
    assert.match(log, /the storage volume has room again/);
  });

  it(
    'a volume filled to 100% by something else: delivered segments make room, and a restart on it works',
    { timeout: 90_000 },
    async (t) => {
      const v = await volume(t, '8m', 2000);
      if (v === undefined) return;
      const sink = new SinkServer();
      v.defer(() => sink.close());
      const url = await sink.listen();
      sink.mode = { kind: 'status', status: 503 };
      const cfg = config(join(v.volume.path, 'storage'), sinkExporter(url), ['http_sink']);
      let sidecar = await startSidecar({ dir: v.dir, config: cfg, entry: TEST_SIDECAR });
      v.defer(() => sidecar.kill());
      const acked: string[] = [];
      let endpoint = sidecar.endpoints['otlp/http']!;
      for (let i = 0; i < 60; i++) {
        const { body, uuids } = securityBatch(50, 'y'.repeat(300));
        assert.equal((await postOtlp(endpoint, body)).status, 200);
        acked.push(...uuids);
      }
      // Someone else fills the rest of the volume, and keeps it filled.
      await fillBytes(v.volume.path);
      assert.ok((await freeSpace(v.volume.path)).bytes < 64 * 1024);
      assert.equal((await postOtlp(endpoint, securityBatch(50, 'z'.repeat(300)).body)).status, 503);
      assert.equal((await ready(sidecar)).status, 503);

      // The destination comes back: the delivered segments are deleted although the volume was
      // full when the cursors had to be saved, and that room lets the intake resume by itself.
      sink.mode = { kind: 'ok' };
      await until(() => acked.every((u) => sink.received.includes(u)), 30_000, 'every acknowledged record delivered');
      await postUntilAccepted(sidecar, acked, 20_000);
      await until(async () => (await ready(sidecar)).status === 200, 10_000, '/readyz to be 200 again');

      // Full again, with a backlog, and the sidecar crashes on it: it starts again on the full volume.
      sink.mode = { kind: 'status', status: 503 };
      await postUntilRefused(sidecar, acked);
      await fillBytes(v.volume.path);
      await sidecar.stop('SIGKILL');
      sidecar = await startSidecar({ dir: v.dir, config: cfg, entry: TEST_SIDECAR });
      endpoint = sidecar.endpoints['otlp/http']!;
      assert.equal((await ready(sidecar)).status, 503, 'not ready: no room for new records');
      sink.mode = { kind: 'ok' };
      await until(() => acked.every((u) => sink.received.includes(u)), 30_000, 'every acknowledged record delivered');
      await postUntilAccepted(sidecar, acked, 20_000);
      await until(() => acked.every((u) => sink.received.includes(u)), 10_000, 'the records taken after recovery');
      assert.equal(await sidecar.stop(), 0);
      assert.doesNotMatch(sidecar.output.join('\n'), /could not persist spool cursors/);
    },
  );

  it('space freed by someone else: ready again within seconds, without a request', { timeout: 60_000 }, async (t) => {
    const v = await volume(t, '8m', 2000);
    if (v === undefined) return;
    const sink = new SinkServer();
    v.defer(() => sink.close());
    const url = await sink.listen();
    sink.mode = { kind: 'status', status: 503 }; // nothing is delivered: only the filler can make room
    const sidecar = await startSidecar({
      dir: v.dir,
      config: config(join(v.volume.path, 'storage'), sinkExporter(url), ['http_sink']),
      entry: TEST_SIDECAR,
    });
    v.defer(() => sidecar.kill());
    const acked: string[] = [];
    const endpoint = sidecar.endpoints['otlp/http']!;
    for (let i = 0; i < 20; i++) {
      const { body, uuids } = securityBatch(50);
      assert.equal((await postOtlp(endpoint, body)).status, 200);
      acked.push(...uuids);
    }
    await fillBytes(v.volume.path);
    assert.equal((await postOtlp(endpoint, securityBatch(50, 'z'.repeat(300)).body)).status, 503);
    assert.equal((await ready(sidecar)).status, 503);
    await removeFillers(v.volume.path);
    const freed = Date.now();
    await until(async () => (await ready(sidecar)).status === 200, 10_000, '/readyz to be 200 again');
    const readyAfter = Date.now() - freed;
    await postUntilAccepted(sidecar, acked, 5_000);
    sink.mode = { kind: 'ok' };
    await until(() => acked.every((u) => sink.received.includes(u)), 30_000, 'every acknowledged record delivered');
    t.diagnostic(`ready ${readyAfter} ms after the space was freed`);
    assert.equal(await sidecar.stop(), 0);
  });

  it(
    'out of inodes: the spool and the rotating audit file recover by themselves when inodes return',
    { timeout: 90_000 },
    async (t) => {
      const v = await volume(t, '64m', 200);
      if (v === undefined) return;
      const audit = join(v.volume.path, 'audit');
      const exporters = `  file:
    path: ${join(audit, 'audit.jsonl')}
    rotation:
      max_megabytes: 0.05
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 300ms
`;
      const sidecar = await startSidecar({
        dir: v.dir,
        config: config(join(v.volume.path, 'storage'), exporters, ['file']),
        entry: TEST_SIDECAR,
      });
      v.defer(() => sidecar.kill());
      const endpoint = sidecar.endpoints['otlp/http']!;
      const acked: string[] = [];
      const trail = async () => {
        const names = await readdir(audit);
        const texts = await Promise.all(
          names.filter((n) => n.endsWith('.jsonl')).map((n) => readFile(join(audit, n), 'utf8')),
        );
        return new Set(texts.join('').match(/(?<="message_uuid":")[^"]+/g) ?? []);
      };
      for (let i = 0; i < 10; i++) {
        const { body, uuids } = securityBatch(50);
        assert.equal((await postOtlp(endpoint, body)).status, 200);
        acked.push(...uuids);
      }
      const filled = await fillInodes(v.volume.path);
      assert.ok(filled > 0 && (await freeSpace(v.volume.path)).inodes === 0);
      // Without inodes: the audit file cannot rotate, the spool cannot start a segment. Requests are
      // answered (some stored, the rest 503); nothing acknowledged may go missing.
      let refusedCount = 0;
      for (let i = 0; i < 60; i++) {
        const { body, uuids } = securityBatch(50, 'w'.repeat(300));
        const res = await postOtlp(endpoint, body);
        if (res.status === 200) acked.push(...uuids);
        else refusedCount++;
      }
      assert.ok(refusedCount > 0, 'some requests were refused while no inode was free');
      await removeFillers(v.volume.path);
      await until(
        async () => {
          const inTrail = await trail();
          return acked.every((u) => inTrail.has(u));
        },
        30_000,
        'every acknowledged record in the audit files',
      );
      const inTrail = await trail();
      assert.deepEqual(
        acked.filter((u) => !inTrail.has(u)),
        [],
        'acknowledged records missing from the audit files',
      );
      await postUntilAccepted(sidecar, acked, 20_000);
      assert.equal(await sidecar.stop(), 0);
      const log = sidecar.output.join('\n');
      assert.doesNotMatch(log, /Cannot read properties of undefined/);
    },
  );
});
