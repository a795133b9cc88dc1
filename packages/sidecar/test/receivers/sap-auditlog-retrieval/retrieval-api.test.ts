import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorOfStatus } from '../../../src/receivers/sap-auditlog-retrieval/errors.js';
import { apiTime, pagingHandle, RetrievalApi } from '../../../src/receivers/sap-auditlog-retrieval/retrieval-api.js';
import { TokenBucket } from '../../../src/receivers/sap-auditlog-retrieval/token-bucket.js';
import type { AuditLogCredentials } from '../../../src/sap/credentials.js';

const credentials: AuditLogCredentials = {
  url: 'https://auditlog-management.cfapps.eu10.hana.ondemand.com',
  plan: 'default',
  uaa: { url: 'https://sub.authentication.eu10.hana.ondemand.com', clientid: 'c', clientsecret: 's' },
  user: undefined,
  password: undefined,
  source: 'test',
  watchDirectory: undefined,
};

describe('Retrieval API requests', () => {
  it('send the window in whole UTC seconds, the categories, and the handle URL-encoded once', () => {
    const api = new RetrievalApi(credentials, {}, 1000, new TokenBucket(4));
    try {
      const from = Date.parse('2026-11-21T10:00:00.750Z');
      const to = Date.parse('2026-11-21T10:05:00Z');
      const handle = '2018-06-14T10:11:18.968<4f932695-8616-4e1f-ac9a-1cdfb758f01d<2018-06-14T10:11:00.000+/=';
      const url = api.url({ from, to, categories: ['audit.security-events', 'audit.data-access'], handle });
      assert.equal(
        url.origin + url.pathname,
        'https://auditlog-management.cfapps.eu10.hana.ondemand.com/auditlog/v2/auditlogrecords',
      );
      assert.equal(url.searchParams.get('time_from'), '2026-11-21T10:00:00');
      assert.equal(url.searchParams.get('time_to'), '2026-11-21T10:05:00');
      assert.equal(url.searchParams.get('category'), 'audit.security-events,audit.data-access');
      assert.equal(url.searchParams.get('handle'), handle, 'decodes back to the handle exactly');
      assert.ok(!url.search.includes('<') && !url.search.includes('+/='), url.search);
      assert.ok(!api.url({ from, to, categories: [] }).searchParams.has('category'));
    } finally {
      api.close();
    }
  });

  it('read the handle from the Paging header, as opaque text', () => {
    assert.equal(pagingHandle('handle=abc+/=='), 'abc+/==');
    assert.equal(pagingHandle(['handle=a<b<c']), 'a<b<c');
    assert.equal(pagingHandle(undefined), undefined);
    assert.equal(pagingHandle('handle='), undefined);
    assert.equal(apiTime(Date.parse('2026-01-02T03:04:05.999Z')), '2026-01-02T03:04:05');
  });

  it('map each status to what the receiver does, naming the cause', () => {
    const e429 = errorOfStatus(429, '', { 'retry-after': '3' });
    assert.equal(e429.kind, 'throttled');
    assert.equal(e429.retryAfterMs, 3000);
    assert.equal(errorOfStatus(401, '', {}).kind, 'unauthorized');
    const e403 = errorOfStatus(403, '{"error":"forbidden"}', {});
    assert.equal(e403.kind, 'refused');
    assert.match(e403.message, /403 \(forbidden\).*"error":"forbidden".*may not read/);
    assert.match(errorOfStatus(400, 'bad handle', {}).message, /400 \(bad request\): bad handle/);
    const e501 = errorOfStatus(501, '{"error":{"code":"filter_category_not_supported"}}', {});
    assert.equal(e501.kind, 'category_filter');
    assert.equal(errorOfStatus(501, 'not implemented', {}).kind, 'unavailable');
    for (const s of [500, 502, 503, 504]) assert.equal(errorOfStatus(s, '', {}).kind, 'unavailable');
    assert.match(errorOfStatus(404, '', {}).message, /check the url/);
  });
});

describe('token bucket', () => {
  it('spaces requests evenly at the rate, and holds all back after a pause', async () => {
    const bucket = new TokenBucket(20);
    const t0 = performance.now();
    for (let i = 0; i < 6; i++) assert.equal(await bucket.take(), true);
    const paced = performance.now() - t0;
    assert.ok(paced >= 245 && paced < 600, `6 requests at 20/s took ${paced} ms`);
    bucket.pause(300);
    const t1 = performance.now();
    await bucket.take();
    assert.ok(performance.now() - t1 >= 295, 'waited out the pause');
    const aborted = new AbortController();
    aborted.abort();
    assert.equal(await bucket.take(aborted.signal), false);
  });
});
