import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckTracker } from '../../../src/exporters/splunk-hec/ack.js';
import { createLogger } from '../../../src/telemetry/logger.js';

describe('indexer acknowledgement tracker', () => {
  it('resolves true once HEC reports the id, and false when the shutdown signal aborts the wait', async (t) => {
    let indexed = new Set<number>();
    const tracker = new AckTracker(async () => indexed, 10, 60_000, createLogger('silent'));
    t.after(() => tracker.close());
    const first = tracker.wait(1);
    indexed = new Set([1]);
    assert.equal(await first, true);

    const abort = new AbortController();
    const second = tracker.wait(2, abort.signal);
    const t0 = Date.now();
    abort.abort();
    assert.equal(await second, false);
    assert.ok(Date.now() - t0 < 1000, 'the wait ends at once, not after ack_timeout');
    assert.equal(tracker.size, 0);
    assert.equal(await tracker.wait(3, abort.signal), false, 'an already aborted signal does not wait');
    await tracker.close();
  });
});
