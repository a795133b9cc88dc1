/**
 * Split brain: a sidecar frozen (SIGSTOP) longer than the lock's stale interval, while a second
 * one takes the storage over, then thawed (SIGCONT). The two run under different host names (as
 * two pods on a shared volume, or two containers of one pod), so neither can check the other's pid
 * and the lock goes by its heartbeat. The thawed one must find its lock taken over before it writes
 * or acknowledges anything more, and exit; no record either of them acknowledged may be lost
 * (counted by uuid at the destination).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cleanupAfter } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { requirementMissing } from '../support/requirement.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { dirWithSink, postOtlp, securityBatch, sleep, until } from './helpers.js';

const HEARTBEAT = '200ms';
const STALE = '1500ms';

/** Runs the sidecar under its own host name (a new UTS namespace: needs root). */
function asHost(name: string): string[] {
  return ['unshare', '--uts', 'sh', '-c', `hostname ${name} && exec "$0" "$@"`];
}

async function canUnshare(): Promise<string | undefined> {
  try {
    await promisify(execFile)('unshare', ['--uts', 'sh', '-c', 'hostname split-brain-check']);
    return undefined;
  } catch (err) {
    return (
      `cannot give a process its own host name here (unshare --uts: ${(err as Error).message.split('\n', 1)[0]}); ` +
      'this fault test needs root (or CAP_SYS_ADMIN): run it as root, e.g. `sudo npm test` or in CI'
    );
  }
}

function config(sinkUrl: string): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  http_sink:
    endpoint: ${sinkUrl}
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 300ms
extensions:
  storage:
    directory: ../shared-storage
    segment_size: 256KiB
    max_size: 64MiB
    lock:
      heartbeat_interval: ${HEARTBEAT}
      stale_after: ${STALE}
service:
  shutdown_timeout: 2s
  telemetry:
    address: 127.0.0.1:0
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [http_sink]
`;
}

/** Posts 50-record batches to a sidecar until `stop()` says so; acknowledged uuids go to `acked`. */
function stream(sidecar: SidecarProcess, acked: string[], refused: { n: number }): { stop(): Promise<void> } {
  let running = true;
  const endpoint = sidecar.endpoints['otlp/http']!;
  const loop = (async () => {
    while (running) {
      const { body, uuids } = securityBatch(50);
      try {
        const res = await postOtlp(endpoint, body);
        if (res.status === 200) acked.push(...uuids);
        else refused.n++;
      } catch {
        refused.n++; // connection reset: not acknowledged
        await sleep(20);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('fault: split brain', () => {
  it(
    'a frozen sidecar whose storage was taken over stops at once when it thaws: no acknowledged record lost',
    { timeout: 120_000 },
    async (t) => {
      const skip = await canUnshare();
      if (skip !== undefined) {
        requirementMissing(t, skip);
        return;
      }
      const defer = cleanupAfter(t);
      const { dir, sink, url } = await dirWithSink(defer);
      // The destination comes and goes: backlogs are read from disk, cursors move, segments are deleted.
      const flapping = setInterval(() => {
        sink.mode = sink.mode.kind === 'ok' ? { kind: 'status', status: 503 } : { kind: 'ok' };
      }, 300);
      defer(() => clearInterval(flapping));
      const { mkdir } = await import('node:fs/promises');
      for (const d of ['a', 'b', 'c']) await mkdir(join(dir, d));

      const a = await startSidecar({
        dir: join(dir, 'a'),
        config: config(url),
        entry: TEST_SIDECAR,
        wrapper: asHost('pod-a'),
      });
      defer(() => a.kill());
      const ackedA: string[] = [];
      const refusedA = { n: 0 };
      const toA = stream(a, ackedA, refusedA);
      await until(() => ackedA.length >= 2000, 30_000, 'records acknowledged by the first sidecar');

      a.child.kill('SIGSTOP');
      defer(() => a.child.kill('SIGCONT'));
      const frozenAt = ackedA.length;
      const b = await startSidecar({
        dir: join(dir, 'b'),
        config: config(url),
        entry: TEST_SIDECAR,
        wrapper: asHost('pod-b'),
        startTimeoutMs: 30_000,
      });
      defer(() => b.kill());
      assert.match(b.output.join('\n'), /took over the storage lock/);
      const ackedB: string[] = [];
      const refusedB = { n: 0 };
      const toB = stream(b, ackedB, refusedB);
      await until(() => ackedB.length >= 2000, 30_000, 'records acknowledged by the second sidecar');

      // Thaw the first: its requests in flight resume, its timers fire, its exporter wakes up.
      const thawedAt = Date.now();
      a.child.kill('SIGCONT');
      const exitA = await Promise.race([a.exited, sleep(10_000).then(() => 'still running')]);
      const exitedAfterMs = Date.now() - thawedAt;
      await toA.stop();
      assert.equal(exitA, 1, 'the fenced sidecar exits');
      assert.match(a.output.join('\n'), /another process took over the storage directory/);
      await until(() => ackedB.length >= 4000, 30_000, 'more records acknowledged by the second sidecar');
      await toB.stop();
      // The second crashes too; a third starts on the storage and delivers what is left.
      await b.stop('SIGKILL');
      clearInterval(flapping);
      sink.mode = { kind: 'ok' };
      const c = await startSidecar({
        dir: join(dir, 'c'),
        config: config(url),
        entry: TEST_SIDECAR,
        wrapper: asHost('pod-c'),
        startTimeoutMs: 30_000,
      });
      defer(() => c.kill());

      const acked = [...ackedA, ...ackedB];
      await until(
        () => {
          const got = new Set(sink.received);
          return acked.every((u) => got.has(u));
        },
        30_000,
        'every acknowledged record delivered',
      ).catch((err: unknown) => {
        const got = new Set(sink.received);
        const lostA = ackedA.filter((u) => !got.has(u)).length;
        const lostB = ackedB.filter((u) => !got.has(u)).length;
        throw new Error(`${(err as Error).message}: lost ${lostA} acknowledged by the first, ${lostB} by the second`);
      });
      const got = new Set(sink.received);
      const duplicates = sink.received.length - got.size;
      t.diagnostic(
        `acknowledged: ${ackedA.length} by the first (${ackedA.length - frozenAt} after the freeze), ${ackedB.length} by the second; ` +
          `lost 0; duplicates ${duplicates}; the first exited ${exitedAfterMs} ms after SIGCONT`,
      );
      assert.equal(await c.stop(), 0);
    },
  );
});
