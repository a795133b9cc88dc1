import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiPrefix, classify } from '../../../src/exporters/sap-auditlog/sap-exporter.js';

describe('SAP write API paths and status codes', () => {
  const creds = (plan: string | undefined, uaa = true) => ({
    url: '',
    plan,
    uaa: uaa ? { clientid: 'c' } : undefined,
    user: undefined,
    password: undefined,
    source: 't',
    watchDirectory: undefined,
  });

  it('picks the path from the plan and the URL', () => {
    assert.equal(
      apiPrefix('auto', creds('premium'), new URL('https://api.auditlog.cf.eu10.hana.ondemand.com:6081')),
      '/audit-log/oauth2/v2/',
    );
    assert.equal(
      apiPrefix('auto', creds('premium'), new URL('https://api.auditlog.cf.eu-de-1.cloud.sap')),
      '/audit-log/premium/v2/',
    );
    assert.equal(apiPrefix('auto', creds('oauth2'), new URL('https://api.auditlog.example')), '/audit-log/oauth2/v2/');
    assert.equal(apiPrefix('auto', creds(undefined, false), new URL('https://x')), '/audit-log/v2/');
    assert.equal(apiPrefix('premium', creds('oauth2'), new URL('https://x:6081')), '/audit-log/premium/v2/');
  });

  it('maps every status to delivered, dead letter, token refresh or retry', () => {
    assert.deepEqual(classify(201, '{"id":"x"}', {}), { kind: 'delivered' });
    for (const s of [400, 403, 413])
      assert.equal((classify(s, '{"error":"x"}', {}) as { kind: string }).kind, 'rejected');
    assert.equal(classify(401, '', {}), 'unauthorized');
    assert.deepEqual(classify(429, '', { 'retry-after': '7' }), {
      kind: 'retry',
      reason: 'SAP Audit Log Service HTTP 429',
      retryAfterMs: 7000,
    });
    for (const s of [404, 500, 502, 503, 504]) assert.equal((classify(s, '', {}) as { kind: string }).kind, 'retry');
  });
});
