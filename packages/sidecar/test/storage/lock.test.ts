import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  lockDirectory,
  lockHolder,
  LockLostError,
  parseLock,
  StorageLockedError,
  type DirectoryLock,
} from '../../src/storage/lock.js';

const pidNamespace = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
})();
const fast = { heartbeatMs: 100, staleMs: 600 };
const LOCK_CHILD = fileURLToPath(new URL('./lock-child.js', import.meta.url));

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** Runs lock-child.js: resolves with its output lines once it exits (killed after 20 s). */
function lockChild(dir: string, holdMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [LOCK_CHILD, dir, String(fast.heartbeatMs), String(fast.staleMs), String(holdMs)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`lock child exited ${code}: ${out}`));
      else resolve(out.trim().split('\n'));
    });
  });
}

describe('storage lock', () => {
  let dir: string;
  const locks: DirectoryLock[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-lock-'));
  });
  afterEach(async () => {
    for (const l of locks.splice(0)) await l.release();
    await rm(join(dir, 'LOCK'), { force: true });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const take = async (options: Parameters<typeof lockDirectory>[1] = {}) => {
    const lock = await lockDirectory(dir, options);
    locks.push(lock);
    return lock;
  };
  const age = async (seconds: number) => {
    const old = new Date(Date.now() - seconds * 1000);
    await utimes(join(dir, 'LOCK'), old, old);
  };

  it('is taken, seen by others and released', async () => {
    const lock = await take();
    const [pid, host, ns, start, boot, token] = (await readFile(join(dir, 'LOCK'), 'utf8')).split('\n');
    assert.deepEqual([Number(pid), host, ns], [process.pid, hostname(), pidNamespace]);
    assert.equal(start, startTimeOf(process.pid));
    assert.equal(boot, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    assert.match(token!, /^[0-9a-f]{24}$/);
    assert.equal(lock.tookOverUnverified, false);
    await lock.release();
    assert.equal(await lockHolder(dir), undefined);
    await assert.rejects(stat(join(dir, 'LOCK')), /ENOENT/);
  });

  it('leaves no temporary file behind', async () => {
    await take();
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual(await readdir(dir), ['LOCK']);
  });

  it('refuses a lock whose holder runs here, and takes over one whose process is gone', async () => {
    // The format of earlier versions (three lines): a live node process counts as a holder.
    await writeFile(join(dir, 'LOCK'), `${process.ppid}\n${hostname()}\n${pidNamespace}\n`);
    assert.equal(await lockHolder(dir), `process ${process.ppid}`);
    await assert.rejects(lockDirectory(dir), StorageLockedError);
    await writeFile(join(dir, 'LOCK'), `999999\n${hostname()}\n${pidNamespace}\n`);
    const takeovers: string[] = [];
    await take({ onTakeover: (_h, why) => takeovers.push(why) });
    assert.deepEqual(takeovers, ['its process is not running']);
  });

  it('refuses a holder that is the same process (pid and start time), takes over a pid now used by another', async () => {
    const ppid = process.ppid;
    await writeFile(join(dir, 'LOCK'), `${ppid}\n${hostname()}\n${pidNamespace}\n${startTimeOf(ppid)}\n`);
    await assert.rejects(lockDirectory(dir), /in use by process/);
    // The same pid with another start time: the holder is gone and its pid was given to another process.
    await writeFile(join(dir, 'LOCK'), `${ppid}\n${hostname()}\n${pidNamespace}\n1\n`);
    assert.equal(await lockHolder(dir), undefined);
    const takeovers: string[] = [];
    await take({ onTakeover: (_h, why) => takeovers.push(why) });
    assert.deepEqual(takeovers, [`pid ${ppid} now belongs to another process`]);
  });

  it('takes over a LOCK naming pid 1 (alive, but not the otel-audit that wrote it)', async () => {
    await writeFile(join(dir, 'LOCK'), `1\n${hostname()}\n${pidNamespace}\n999999999999\n`);
    const started = Date.now();
    await take();
    assert.ok(Date.now() - started < 2000);
  });

  it('takes over an old-format LOCK whose live pid is not otel-audit', async (t) => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.after(() => sleeper.kill('SIGKILL'));
    await new Promise((r) => sleeper.once('spawn', r));
    await writeFile(join(dir, 'LOCK'), `${sleeper.pid}\n${hostname()}\n${pidNamespace}\n`);
    const takeovers: string[] = [];
    await take({ onTakeover: (_h, why) => takeovers.push(why) });
    assert.deepEqual(takeovers, [`pid ${sleeper.pid} belongs to a process that is not otel-audit`]);
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

  it('takes over a lock on another host once its heartbeat is stale', async () => {
    await writeFile(join(dir, 'LOCK'), '1\nsome-other-pod\n');
    await age(60);
    assert.equal(await lockHolder(dir), undefined);
    const lock = await take({ timings: fast });
    assert.equal(lock.tookOverUnverified, true, 'a holder judged by its heartbeat may still run');
  });

  // Containers of one pod share the host name but not the PID namespace: the pid means nothing there.
  it('judges a holder in another PID namespace of this host by its heartbeat, waiting for it to stop', async () => {
    const lock = join(dir, 'LOCK');
    await writeFile(lock, `${process.ppid}\n${hostname()}\npid:[1]\n`);
    assert.equal(await lockHolder(dir), `process ${process.ppid}`, 'a fresh heartbeat counts as running');
    const started = Date.now();
    const waits: number[] = [];
    await take({ timings: fast, onWait: (_holder, ms) => waits.push(ms) });
    const waited = Date.now() - started;
    assert.ok(waited >= 400 && waited < 3_000, `waited ${waited} ms for the stale heartbeat`);
    assert.equal(waits.length, 1);
    assert.equal((await readFile(lock, 'utf8')).split('\n')[0], String(process.pid));
  });

  for (const [name, content] of [
    ['empty', ''],
    ['NUL-filled', '\0'.repeat(64)],
    ['garbage', 'b\u00ff\u0001garbage\nnot a lock'],
    ['torn', '12'],
  ] as const) {
    it(`takes over an ${name} LOCK with a warning once nobody has touched it for the stale interval`, async () => {
      assert.equal(parseLock(content), undefined);
      await writeFile(join(dir, 'LOCK'), content);
      const started = Date.now();
      const takeovers: string[] = [];
      await take({ timings: fast, onTakeover: (holder) => takeovers.push(holder) });
      const waited = Date.now() - started;
      assert.ok(waited >= 400 && waited < 3_000, `waited ${waited} ms`);
      assert.equal(takeovers.length, 1);
      assert.match(takeovers[0]!, /^an unreadable LOCK/);
    });
  }

  it('takes over an unreadable LOCK at once when it is old, and refuses one that keeps being touched', async () => {
    await writeFile(join(dir, 'LOCK'), '\0\0\0\0');
    await age(60);
    const started = Date.now();
    const lock = await take({ timings: fast });
    assert.ok(Date.now() - started < 500);
    await lock.release();
    locks.splice(0);

    await writeFile(join(dir, 'LOCK'), 'garbage');
    const beat = setInterval(() => {
      const now = new Date();
      void utimes(join(dir, 'LOCK'), now, now);
    }, fast.heartbeatMs);
    try {
      await assert.rejects(lockDirectory(dir, { timings: fast }), /in use by an unreadable LOCK/);
    } finally {
      clearInterval(beat);
    }
  });

  it('does not wait forever for a LOCK whose time lies in the future (a clock that differs)', async () => {
    await writeFile(join(dir, 'LOCK'), '1\nsome-other-pod\n');
    const future = new Date(Date.now() + 3_600_000);
    await utimes(join(dir, 'LOCK'), future, future);
    const started = Date.now();
    await take({ timings: fast });
    const waited = Date.now() - started;
    assert.ok(waited >= 500 && waited < 3_000, `waited ${waited} ms`);
  });

  it('notices at once when another process takes the lock over, and leaves its LOCK alone', async () => {
    const lock = await take({ timings: fast });
    const reasons: string[] = [];
    lock.onLost((r) => reasons.push(r));
    lock.assertHeld();
    const theirs = `1\nsome-other-pod\n\n\n\nfeedfeedfeedfeedfeedfeed\n`;
    await writeFile(join(dir, 'LOCK.other'), theirs);
    await rename(join(dir, 'LOCK.other'), join(dir, 'LOCK'));
    // Checked on every write, not only by the heartbeat timer.
    assert.throws(() => lock.assertHeld(), LockLostError);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /taken over by another process/);
    assert.throws(() => lock.assertHeld(), LockLostError);
    const before = (await stat(join(dir, 'LOCK'))).mtimeMs;
    await new Promise((r) => setTimeout(r, 3 * fast.heartbeatMs));
    assert.equal((await stat(join(dir, 'LOCK'))).mtimeMs, before, 'the heartbeat does not touch their LOCK');
    await lock.release();
    assert.equal(await readFile(join(dir, 'LOCK'), 'utf8'), theirs, 'release does not remove their LOCK');
  });

  it('keeps its LOCK fresh by a heartbeat', async () => {
    await take({ timings: fast });
    const first = (await stat(join(dir, 'LOCK'))).mtimeMs;
    await new Promise((r) => setTimeout(r, 3 * fast.heartbeatMs));
    assert.ok((await stat(join(dir, 'LOCK'))).mtimeMs > first);
  });

  it('gives a stale LOCK to exactly one of two processes taking it over at once', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 5; round++) {
      await writeFile(join(dir, 'LOCK'), '1\nsome-other-pod\n');
      await age(60);
      const results = await Promise.all([lockChild(dir, 1500), lockChild(dir, 1500)]);
      const got = results.filter((r) => r[0] === 'got');
      assert.equal(got.length, 1, `round ${round}: ${JSON.stringify(results)}`);
      assert.deepEqual(got[0], ['got', 'released'], `the winner kept the lock: ${JSON.stringify(results)}`);
      assert.match(results.find((r) => r[0] !== 'got')![0]!, /^refused: .*in use by process/);
    }
  });
});
