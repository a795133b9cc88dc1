import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SpaceReserve } from '../../src/storage/reserve.js';

const noSpace = () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });

describe('storage space reserve', () => {
  let dir: string;
  let events: string[];
  let reserve: SpaceReserve;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-reserve-'));
    events = [];
    reserve = new SpaceReserve(join(dir, 'space-reserve'), 200 * 1024, {
      onRelease: (what) => events.push(`release ${what}`),
      onRestore: () => events.push('restore'),
    });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is a file of the given size, of bytes a compressing file system cannot fold away', async () => {
    assert.equal(await reserve.fill(), true);
    const bytes = await readFile(reserve.path);
    assert.equal(bytes.length, 200 * 1024);
    assert.ok(bytes.subarray(0, 4096).some((b) => b !== 0));
    assert.equal(await reserve.fill(), true, 'filling it again is a no-op');
    assert.equal((await stat(reserve.path)).size, 200 * 1024);
  });

  it('is released for a write that failed for lack of space, which is then tried again', async () => {
    await reserve.fill();
    let tries = 0;
    const result = await reserve.withRoom('cursors', async () => {
      if (tries++ === 0) throw noSpace();
      return 'saved';
    });
    assert.equal(result, 'saved');
    assert.equal(tries, 2);
    await assert.rejects(stat(reserve.path), /ENOENT/);
    assert.deepEqual(events, ['release cursors']);
    assert.equal(reserve.isUsed(), true);
  });

  it('does not hide other errors, nor a lack of space when there is no reserve left', async () => {
    await reserve.fill();
    await assert.rejects(
      reserve.withRoom('x', () => Promise.reject(Object.assign(new Error('io'), { code: 'EIO' }))),
      /io/,
    );
    assert.equal(reserve.isUsed(), false);
    await reserve.release('first');
    await assert.rejects(
      reserve.withRoom('x', () => Promise.reject(noSpace())),
      { code: 'ENOSPC' },
    );
  });

  it('once used, holds new data back until it is whole again', async () => {
    await reserve.fill();
    assert.equal(reserve.beforeNewData(), undefined, 'nothing to wait for while it is whole');
    await reserve.release('dead letters');
    // Room is back: the first new data refills it first.
    await reserve.beforeNewData();
    assert.equal((await stat(reserve.path)).size, 200 * 1024);
    assert.equal(reserve.isUsed(), false);
    assert.deepEqual(events, ['release dead letters', 'restore']);
  });
});
