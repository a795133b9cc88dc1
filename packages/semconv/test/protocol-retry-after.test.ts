import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RETRY_AFTER_MS, parseHttpDate, parseRetryAfter } from '../src/index.js';

const NOW = Date.UTC(1994, 10, 6, 8, 49, 0); // Sun, 06 Nov 1994 08:49:00 GMT

describe('Retry-After', { timeout: 10_000 }, () => {
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter('1', NOW), 1000);
    assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
    assert.equal(parseRetryAfter('007', NOW), 7000);
  });

  it('reads the three HTTP-date forms as the time left until then', () => {
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), 37_000);
    assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW), 37_000);
    assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', NOW), 37_000);
    assert.equal(parseRetryAfter('Sun Nov 16 08:49:37 1994', NOW), MAX_RETRY_AFTER_MS);
  });

  it('waits 0 for a date in the past', () => {
    assert.equal(parseRetryAfter('Sat, 05 Nov 1994 08:49:37 GMT', NOW), 0);
    assert.equal(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW), 0);
  });

  it('never asks for more than the bound', () => {
    assert.equal(parseRetryAfter('86400', NOW), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('9'.repeat(400), NOW), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', NOW), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('30', NOW, 5000), 5000);
    assert.equal(parseRetryAfter(new Date(NOW + 2000).toUTCString(), NOW, 60_000), 2000);
  });

  it('ignores what is neither (instead of guessing with Date.parse)', () => {
    for (const value of [
      undefined,
      '',
      '-1',
      '1.5',
      '+3',
      '1e3',
      'soon',
      '3 seconds',
      '2026-11-21T10:00:00Z',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'sun, 06 Nov 1994 08:49:37 GMT',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 00 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:60:00 GMT',
      'Sun, 06 Foo 1994 08:49:37 GMT',
      'Sun, 06-Nov-94 08:49:37 GMT',
      'Sunday, 06 Nov 1994 08:49:37 GMT',
    ]) {
      assert.equal(parseRetryAfter(value, NOW), undefined, JSON.stringify(value));
    }
  });

  it('reads every IMF-fixdate Date#toUTCString writes', () => {
    for (let ms = Date.UTC(1970, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 86_399_000 * 7 + 12_345) {
      const exact = ms - (ms % 1000);
      assert.equal(parseHttpDate(new Date(exact).toUTCString()), exact);
    }
  });

  it('takes a two-digit RFC 850 year as the most recent one not over 50 years ahead', () => {
    const in2026 = Date.UTC(2026, 0, 1);
    assert.equal(parseHttpDate('Thursday, 01-Jan-76 00:00:00 GMT', in2026), Date.UTC(2076, 0, 1));
    assert.equal(parseHttpDate('Friday, 01-Jan-77 00:00:00 GMT', in2026), Date.UTC(1977, 0, 1));
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', in2026), Date.UTC(1994, 10, 6, 8, 49, 37));
  });

  it('accepts a leap second and years before 100', () => {
    assert.equal(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT'), Date.UTC(2017, 0, 1));
    const year50 = new Date(0);
    year50.setUTCFullYear(50, 0, 1);
    assert.equal(parseHttpDate('Thu, 01 Jan 0050 00:00:00 GMT'), year50.getTime());
  });
});
