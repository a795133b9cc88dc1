import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryProgress } from '../../src/delivery/progress.js';
import type { Cursor } from '../../src/spool/cursors.js';

const at = (seq: number): Cursor => ({ segment: 1, offset: seq * 100, seq });

describe('delivery progress', () => {
  it('moves the cursor over finished batches in order and keeps the ones finished early as ranges', () => {
    const p = new DeliveryProgress({ cursor: at(1), done: [] });
    const a = p.begin(at(11));
    const b = p.begin(at(21));
    const c = p.begin(at(31));
    assert.equal(p.finish(c), false);
    assert.deepEqual(p.snapshot(), { cursor: at(1), done: [[21, 31]] });
    assert.equal(p.finish(b), false);
    assert.deepEqual(p.snapshot().done, [[11, 31]]);
    assert.ok(!p.isDone(10) && p.isDone(11) && p.isDone(30) && !p.isDone(31));
    assert.equal(p.finish(a), true);
    assert.deepEqual(p.snapshot(), { cursor: at(31), done: [] });
  });

  it('keeps records confirmed one by one, merged, and drops them once the cursor passes', () => {
    const p = new DeliveryProgress({ cursor: at(1), done: [] });
    const a = p.begin(at(11));
    p.markDone([5, 3, 4]);
    p.markDone([9]);
    p.markDone([6, 8]);
    assert.deepEqual(p.snapshot().done, [
      [3, 7],
      [8, 10],
    ]);
    p.markDone([7]);
    assert.deepEqual(p.snapshot().done, [[3, 10]]);
    assert.ok(p.isDone(3) && p.isDone(9) && !p.isDone(2) && !p.isDone(10));
    p.finish(a);
    assert.deepEqual(p.snapshot(), { cursor: at(11), done: [] });
  });

  it('starts from persisted progress: what was finished before is done, the next batch starts at the cursor', () => {
    const p = new DeliveryProgress({ cursor: at(5), done: [[7, 9]] });
    assert.ok(p.isDone(4) && !p.isDone(5) && p.isDone(7) && p.isDone(8) && !p.isDone(9));
    const a = p.begin(at(12));
    assert.equal(a.from, 5);
    p.markDone([9, 10, 11, 5, 6]);
    assert.deepEqual(p.snapshot().done, [[5, 12]]);
    p.finish(a);
    assert.deepEqual(p.snapshot(), { cursor: at(12), done: [] });
  });

  it('stays compact with many confirmations out of order', () => {
    const p = new DeliveryProgress({ cursor: at(1), done: [] });
    const span = p.begin(at(10_001));
    const seqs = Array.from({ length: 10_000 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    for (let i = 0; i < seqs.length; i++) {
      p.markDone([seqs[i]!]);
      assert.ok(p.snapshot().done.length <= i + 1);
    }
    assert.deepEqual(p.snapshot().done, [[1, 10_001]]);
    p.finish(span);
    assert.deepEqual(p.snapshot().done, []);
  });
});
