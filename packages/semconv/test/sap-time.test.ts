import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSapTime } from '../src/index.js';

describe('formatSapTime', () => {
  it('matches Date#toISOString for every millisecond of a second and across second boundaries', () => {
    const base = Date.UTC(2026, 10, 21, 10, 0, 0);
    for (let ms = base - 1500; ms < base + 1500; ms++) assert.equal(formatSapTime(ms), new Date(ms).toISOString());
  });

  it('handles the epoch, times before it, fractions and the year 10000', () => {
    for (const ms of [0, -1, -1001, 1.999, 253402300799999, 253402300800000]) {
      assert.equal(formatSapTime(ms), new Date(Math.floor(ms)).toISOString());
    }
  });
});
