import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lockDirectory, lockHolder, StorageLockedError } from '../../src/storage/lock.js';

describe('storage lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-lock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is taken, seen by others and released', async () => {
    const release = await lockDirectory(dir);
    assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).split('\n')[1], hostname());
    await release();
    assert.equal(await lockHolder(dir), undefined);
  });

  it('refuses a lock whose holder runs here, and takes over one whose process is gone', async () => {
    await writeFile(join(dir, 'LOCK'), `${process.ppid}\n${hostname()}\n`);
    assert.equal(await lockHolder(dir), `process ${process.ppid}`);
    await assert.rejects(lockDirectory(dir), StorageLockedError);
    await writeFile(join(dir, 'LOCK'), `999999\n${hostname()}\n`);
    const release = await lockDirectory(dir);
    await release();
  });

  it('judges a holder on another host by its heartbeat', async () => {
    await writeFile(join(dir, 'LOCK'), '1\nsome-other-pod\n');
    assert.equal(await lockHolder(dir), 'process 1 on some-other-pod');
    await assert.rejects(lockDirectory(dir), /in use by process 1 on some-other-pod/);
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, 'LOCK'), old, old);
    assert.equal(await lockHolder(dir), undefined);
    const release = await lockDirectory(dir);
    await release();
  });
});
