import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lockDirectory, lockHolder, StorageLockedError } from '../../src/storage/lock.js';

const pidNamespace = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
})();
const fast = { heartbeatMs: 100, staleMs: 600 };

describe('storage lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-lock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is taken, seen by others and released', async (t) => {
    const release = await lockDirectory(dir);
    t.after(release); // also when the test fails (once released, there is no LOCK left to remove)
    const [pid, host, ns] = (await readFile(join(dir, 'LOCK'), 'utf8')).split('\n');
    assert.deepEqual([Number(pid), host, ns], [process.pid, hostname(), pidNamespace]);
    await release();
    assert.equal(await lockHolder(dir), undefined);
  });

  it('refuses a lock whose holder runs here, and takes over one whose process is gone', async (t) => {
    await writeFile(join(dir, 'LOCK'), `${process.ppid}\n${hostname()}\n${pidNamespace}\n`);
    assert.equal(await lockHolder(dir), `process ${process.ppid}`);
    await assert.rejects(lockDirectory(dir), StorageLockedError);
    await writeFile(join(dir, 'LOCK'), `999999\n${hostname()}\n${pidNamespace}\n`);
    const release = await lockDirectory(dir);
    t.after(release); // also when the test fails (once released, there is no LOCK left to remove)
    await release();
  });

  it('refuses a holder on another host whose heartbeat goes on', async () => {
    const lock = join(dir, 'LOCK');
    await writeFile(lock, '1\nsome-other-pod\n');
    assert.equal(await lockHolder(dir), 'process 1 on some-other-pod');
    const waits: number[] = [];
    const beat = setInterval(() => {
      const now = new Date();
      void utimes(lock, now, now);
    }, fast.heartbeatMs);
    try {
      await assert.rejects(
        lockDirectory(dir, { timings: fast, onWait: (_holder, ms) => waits.push(ms) }),
        /in use by process 1 on some-other-pod/,
      );
    } finally {
      clearInterval(beat);
    }
    assert.equal(waits.length, 1);
  });

  it('takes over a lock on another host once its heartbeat is stale', async (t) => {
    const lock = join(dir, 'LOCK');
    await writeFile(lock, '1\nsome-other-pod\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    assert.equal(await lockHolder(dir), undefined);
    const release = await lockDirectory(dir);
    t.after(release); // also when the test fails (once released, there is no LOCK left to remove)
    await release();
  });

  // Containers of one pod share the host name but not the PID namespace: the pid means nothing there.
  it('judges a holder in another PID namespace of this host by its heartbeat, waiting for it to stop', async (t) => {
    const lock = join(dir, 'LOCK');
    await writeFile(lock, `${process.ppid}\n${hostname()}\npid:[1]\n`);
    assert.equal(await lockHolder(dir), `process ${process.ppid}`, 'a fresh heartbeat counts as running');
    const started = Date.now();
    const waits: number[] = [];
    const release = await lockDirectory(dir, { timings: fast, onWait: (_holder, ms) => waits.push(ms) });
    t.after(release); // also when the test fails (once released, there is no LOCK left to remove)
    const waited = Date.now() - started;
    assert.ok(waited >= 400 && waited < 3_000, `waited ${waited} ms for the stale heartbeat`);
    assert.equal(waits.length, 1);
    assert.equal((await readFile(lock, 'utf8')).split('\n')[0], String(process.pid));
    await release();
  });
});
