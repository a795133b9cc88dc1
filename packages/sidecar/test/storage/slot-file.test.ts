import assert from 'node:assert/strict';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { readSlotFile, SlotFile } from '../../src/storage/slot-file.js';

const SLOT = 4096;

describe('slot file', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-slots-'));
    path = join(dir, 'state');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is missing until created, then holds the latest payload', async () => {
    assert.deepEqual(await readSlotFile(path, SLOT), { kind: 'missing' });
    const file = await SlotFile.open(path, SLOT, 0);
    try {
      assert.equal((await stat(path)).size, 2 * SLOT);
      assert.deepEqual(await readSlotFile(path, SLOT), { kind: 'missing' }, 'both slots empty');
      for (const text of ['one', 'two', 'three']) file.write(Buffer.from(text));
      assert.ok(file.unsynced);
      await file.sync();
      assert.ok(!file.unsynced);
      const content = await readSlotFile(path, SLOT);
      assert.equal(content.kind, 'ok');
      if (content.kind !== 'ok') return;
      assert.equal(content.payload.toString(), 'three');
      assert.equal(content.generation, 3);
    } finally {
      await file.close();
    }
  });

  it('continues from the generation read, in the same file', async () => {
    let file = await SlotFile.open(path, SLOT, 0);
    file.write(Buffer.from('a'));
    await file.close();
    const { ino } = await stat(path);
    const read = await readSlotFile(path, SLOT);
    assert.equal(read.kind, 'ok');
    file = await SlotFile.open(path, SLOT, read.kind === 'ok' ? read.generation : 0);
    file.write(Buffer.from('b'));
    await file.close();
    assert.equal((await stat(path)).ino, ino);
    const again = await readSlotFile(path, SLOT);
    assert.equal(again.kind === 'ok' && again.payload.toString(), 'b');
  });

  it('falls back to the other slot when the newer one is torn, and says damaged when neither checks out', async () => {
    const file = await SlotFile.open(path, SLOT, 0);
    file.write(Buffer.from('older'));
    file.write(Buffer.from('newer'));
    await file.close();
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from('X'), 0, 1, 0 * SLOT + 20); // generation 2 is in slot 0
    let content = await readSlotFile(path, SLOT);
    assert.equal(content.kind === 'ok' && content.payload.toString(), 'older');
    await fh.write(Buffer.from('X'), 0, 1, 1 * SLOT + 20);
    await fh.close();
    content = await readSlotFile(path, SLOT);
    assert.deepEqual(content, { kind: 'damaged' });
  });

  it('recreates a file of the wrong size, or when asked to', async () => {
    await writeFile(path, 'short');
    let file = await SlotFile.open(path, SLOT, 0);
    await file.close();
    assert.equal((await stat(path)).size, 2 * SLOT);
    file = await SlotFile.open(path, SLOT, 0);
    file.write(Buffer.from('x'));
    await file.close();
    file = await SlotFile.open(path, SLOT, 0, true);
    await file.close();
    assert.deepEqual(await readSlotFile(path, SLOT), { kind: 'missing' });
  });

  it('refuses a payload larger than a slot', async () => {
    const file = await SlotFile.open(path, SLOT, 0);
    try {
      assert.throws(() => file.write(Buffer.alloc(SLOT)), /do not fit/);
    } finally {
      await file.close();
    }
  });
});
