import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { validateSchema } from '../../../src/config/schema.js';
import { sapAuditLogSchema, type SapAuditLogConfig } from '../../../src/exporters/sap-auditlog/config.js';
import { apiPrefix, classify, SapAuditLogExporter } from '../../../src/exporters/sap-auditlog/sap-exporter.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { spooledRecord } from '../splunk-hec/records.js';

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

describe('sap_auditlog exporter', () => {
  it('reports each message as SAP confirms it, while the others of the batch are still in flight', async (t) => {
    // A standard-plan stand-in: the message with data "slow" is answered only once the others were reported.
    let releaseSlow!: () => void;
    const slowAnswered = new Promise<void>((r) => (releaseSlow = r));
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const message = JSON.parse(Buffer.concat(chunks).toString()) as { data: string };
        const answer = () => res.writeHead(message.data === 'refused' ? 400 : 201).end('{}');
        if (message.data === 'slow') void slowAnswered.then(answer);
        else answer();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const config = {
      binding: 'config',
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      user: 'auditlog-user',
      password: 'auditlog-password',
    };
    assert.deepEqual(validateSchema(sapAuditLogSchema, config, []), []);
    const exporter = new SapAuditLogExporter(
      'sap_auditlog',
      config as unknown as SapAuditLogConfig,
      createLogger('silent'),
      {},
    );
    await exporter.start();
    t.after(() => exporter.shutdown());

    const batch = ['a', 'slow', 'b', 'refused', 'c'].map((data, seq) => spooledRecord({ seq, data }));
    const reported: number[] = [];
    const outcome = exporter.export(batch, undefined, (indexes) => {
      reported.push(...indexes);
      if (reported.length === 3) releaseSlow();
    });
    const result = await outcome;
    assert.deepEqual(reported.slice(0, 3).sort(), [0, 2, 4], 'reported before the slow message was answered');
    assert.deepEqual(reported, [...reported.slice(0, 3), 1]);
    assert.deepEqual(
      result.rejected?.map((r) => r.index),
      [3],
    );
    assert.equal(result.retry, undefined);
  });
});
