/**
 * The helpers every e2e and fault test relies on to leave nothing behind: the cleanup stack, and
 * stopping child processes (a sidecar that does not start is not left running either).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exitOf, isRunning, stopChild } from './child.js';
import { cleanupAfter, CleanupStack } from './cleanup.js';
import { startSidecar } from './sidecar-process.js';
import { tempDir } from './tmp.js';

/** Whether a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('test support: cleanups', () => {
  it('runs cleanups last first, runs the rest when one throws, and reports every error', async () => {
    const ran: string[] = [];
    const stack = new CleanupStack();
    stack.push(() => ran.push('temp dir'));
    stack.push(() => {
      ran.push('server');
      throw new Error('server would not close');
    });
    stack.push(async () => {
      await new Promise((r) => setTimeout(r, 10));
      ran.push('child');
    });
    await assert.rejects(stack.run(), /server would not close/);
    assert.deepEqual(ran, ['child', 'server', 'temp dir']);

    stack.push(() => Promise.reject(new Error('a')));
    stack.push(() => Promise.reject(new Error('b')));
    await assert.rejects(stack.run(), (err: AggregateError) => {
      assert.deepEqual(
        err.errors.map((e: Error) => e.message),
        ['b', 'a'],
      );
      return true;
    });
    await stack.run(); // a stack runs each cleanup once
  });

  it('cleanupAfter(t) runs the cleanups when that test ends', async (t) => {
    const ran: string[] = [];
    await t.test('a test that registers cleanups', (inner) => {
      const defer = cleanupAfter(inner);
      defer(() => ran.push('first'));
      defer(() => ran.push('second'));
      assert.deepEqual(ran, [], 'not before the test ends');
    });
    assert.deepEqual(ran, ['second', 'first']);
  });

  describe('cleanupAfter() in a describe body', () => {
    const ran: string[] = [];
    const defer = cleanupAfter();
    it('registers', () => defer(() => ran.push('suite cleanup')));
    it('keeps the cleanups until the suite ends', () => assert.deepEqual(ran, []));
  });
});

describe('test support: child processes', () => {
  it('stopChild sends SIGKILL to a child that ignores SIGTERM once the grace period is over', async (t) => {
    const child = spawn(process.execPath, [
      '-e',
      "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)",
    ]);
    const exited = exitOf(child);
    t.after(() => stopChild(child, exited, 'SIGKILL'));
    await new Promise((r) => child.stdout.once('data', r));
    const started = Date.now();
    assert.equal(await stopChild(child, exited, 'SIGTERM', 300), 'SIGKILL');
    assert.ok(Date.now() - started >= 300, 'waited for the grace period');
    assert.ok(!isRunning(child));
    assert.equal(await stopChild(child, exited), 'SIGKILL', 'stopping a stopped child answers at once');
  });

  it('resolves with the spawn error code when the command does not exist', async () => {
    const child = spawn('/nonexistent/otel-audit-test-command');
    assert.equal(await exitOf(child), 'ENOENT');
  });

  it('a sidecar that does not start in time is killed, not left running', async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    // Stands in for a sidecar that hangs before it listens (and ignores SIGTERM).
    const entry = join(dir, 'never-starts.mjs');
    await writeFile(
      entry,
      "import { writeFileSync } from 'node:fs';\n" +
        "writeFileSync('pid', String(process.pid));\n" +
        "process.on('SIGTERM', () => {});\n" +
        'setInterval(() => {}, 1000);\n',
    );
    const err = await startSidecar({ dir, config: '', entry, startTimeoutMs: 1000 }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(err?.message ?? '', /sidecar did not start within 1000 ms/);
    const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
    assert.ok(pid > 0);
    assert.ok(!alive(pid), `the child ${pid} is still running`);
  });
});
