/**
 * The splunk_hec exporter end to end: SDK (or a plain OTLP client) → sidecar → the HEC test server
 * over HTTPS with a client certificate: all six event types, metadata and indexed fields, routing
 * by `com.splunk.index`, a bad index in the middle of a batch, token failures, load shedding,
 * indexer acknowledgement that is late or never comes, and no token in any log line.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createAuditClient } from '@otel-audit/sdk';
import { cleanupAfter } from '../support/cleanup.js';
import { readLines } from '../support/jsonl.js';
import { postOtlpProtobuf } from '../support/otlp-http.js';
import { encodeLogsRequest, attributes, type Plain } from '../support/otlp-raw.js';
import { DNS_SHIM } from '../support/paths.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { SplunkHecServer, type HecToken } from '../support/splunk-hec-server.js';
import { createTestPki, TEST_DOMAIN, type TestPki } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/wait.js';
import { GOLDEN, TIME } from './golden.js';

const TOKEN = '6f1c2a8e-52f4-4d6b-9a43-0c3de2b7a001';
const ACK_TOKEN = '0b9e4d1f-7c2a-4e5b-8f63-91aa2c4d5e02';

/** One OTLP request with a security event per entry, each with its own record attributes. */
function securityEvents(records: { uuid: string; attrs?: Record<string, Plain> }[]): Buffer {
  const golden = GOLDEN[0]!;
  return encodeLogsRequest({
    resourceLogs: [
      {
        resource: { attributes: attributes({ 'service.name': 'java-app', 'host.name': 'node-7' }) },
        scopeLogs: [
          {
            scope: { name: 'com.example.audit', version: '1.0.0' },
            logRecords: records.map((r) => ({
              timeUnixNano: String(BigInt(TIME.getTime()) * 1_000_000n),
              eventName: golden.eventName,
              body: { stringValue: golden.body },
              attributes: attributes({ ...golden.flattened(r.uuid), ...r.attrs }),
            })),
          },
        ],
      },
    ],
  });
}

describe('splunk_hec exporter', () => {
  let pki: TestPki;
  let server: SplunkHecServer;
  let root: string;
  const running: SidecarProcess[] = [];
  const defer = cleanupAfter();
  const tokens: HecToken[] = [
    { token: TOKEN, indexes: ['main', 'audit', 'audit_eu'] },
    { token: ACK_TOKEN, useAck: true, defaultIndex: 'audit' },
  ];

  before(async () => {
    const tmp = await tempDir('otel-audit-splunk-');
    root = tmp.dir;
    defer(tmp.cleanup);
    pki = createTestPki(join(root, 'pki'));
    server = new SplunkHecServer({
      tokens,
      indexes: ['main', 'audit', 'audit_eu'],
      tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requireClientCert: true },
    });
    await server.start();
    defer(() => server.stop());
    defer(() => Promise.all(running.map((s) => s.stop('SIGKILL'))));
  });

  /** A sidecar with one splunk_hec exporter (extra keys in `exporterYaml`, indented under it). */
  async function sidecar(name: string, exporterYaml: string, logLevel = 'info', clientCertificate = true) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const config = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  splunk_hec:
    endpoint: https://splunk.${TEST_DOMAIN}:${server.port}
    tls:
      ca_file: ${pki.dir}/ca.crt${clientCertificate ? `\n      cert_file: ${pki.dir}/client.crt\n      key_file: ${pki.dir}/client.key` : ''}
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 300ms
${exporterYaml}
extensions:
  storage:
    directory: ./storage
service:
  shutdown_timeout: 1s
  telemetry:
    address: 127.0.0.1:0
    logs:
      level: ${logLevel}
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [splunk_hec]
`;
    const s = await startSidecar({ dir, config, nodeArgs: ['--import', DNS_SHIM] });
    running.push(s);
    const client = createAuditClient({
      endpoint: `http://${s.endpoints['otlp/http']!}`,
      resource: { 'service.name': 'billing', 'host.name': 'billing-pod-1' },
    });
    defer(() => client.shutdown());
    return {
      sidecar: s,
      dir,
      client,
      metrics: async () => (await fetch(`http://${s.endpoints['telemetry']!}/metrics`)).text(),
    };
  }

  const indexed = (uuid: string) => server.eventsFor(uuid);

  it('delivers all six event types over mTLS with gzip, metadata, the local record as event and indexed fields', async () => {
    const { client, sidecar: s } = await sidecar(
      'six-types',
      `    token: ${TOKEN}
    index: audit
    sourcetype: otel:audit
    source: otel-audit
    fields: [category, tenant, user, event_name, success, resource.service.name]`,
    );
    const uuids = GOLDEN.map(() => randomUUID());
    for (const [i, c] of GOLDEN.entries()) await client.log(c.event(uuids[i]!));
    await until(() => uuids.every((u) => indexed(u).length > 0), 10_000, 'all six events');
    GOLDEN.forEach((c, i) => {
      const [e, ...more] = indexed(uuids[i]!);
      assert.equal(more.length, 0, 'indexed once');
      const event = e!.event as Record<string, unknown>;
      assert.equal(event['message_uuid'], uuids[i]);
      assert.equal(event['category'], c.category);
      assert.deepEqual(event['message'], c.sap(uuids[i]!), c.name);
      assert.equal(e!.time, TIME.getTime() / 1000);
      assert.deepEqual(
        [e!.index, e!.sourcetype, e!.source, e!.host],
        ['audit', 'otel:audit', 'otel-audit', 'billing-pod-1'],
      );
      assert.deepEqual(e!.fields, {
        category: c.category,
        tenant: event['tenant'],
        user: event['user'],
        event_name: c.eventName,
        ...(c.success === undefined ? {} : { success: String(c.success) }),
        'resource.service.name': 'billing',
      });
      assert.equal(e!.token, TOKEN);
    });
    const requests = server.requests.filter((r) => r.path === '/services/collector/event' && r.status === 200);
    assert.ok(requests.length > 0 && requests.every((r) => r.gzip && r.auth === 'splunk'));
    assert.ok(
      requests.every((r) => r.clientCert === 'sb-otel-audit-test!b1|auditlog!b2'),
      'the client certificate was used',
    );
    assert.match(s.output.join('\n'), /"msg":"Splunk HEC is healthy"/);
    await client.shutdown();
    assert.equal(await s.stop(), 0);
  });

  it('routes by com.splunk.index without mixing indexes, and dead-letters only the record with a bad index', async () => {
    const { sidecar: s, dir } = await sidecar('routing', `    token: ${TOKEN}\n    index: audit`);
    const records = Array.from({ length: 12 }, (_, i): { uuid: string; attrs: Record<string, Plain> } => ({
      uuid: randomUUID(),
      attrs: i === 6 ? { 'com.splunk.index': 'no_such_index' } : i % 3 === 0 ? { 'com.splunk.index': 'audit_eu' } : {},
    }));
    const before = server.requests.length;
    assert.equal(await postOtlpProtobuf(s.endpoints['otlp/http']!, securityEvents(records)), 200);
    const letters = join(dir, 'storage/dead-letter/splunk_hec.jsonl');
    await until(async () => (await readLines(letters)).length === 1, 10_000, 'the dead letter');
    await until(() => records.every((r, i) => i === 6 || indexed(r.uuid).length > 0), 10_000, 'the other records');
    const [letter] = await readLines(letters);
    assert.equal(letter!['uuid'], records[6]!.uuid);
    assert.equal(
      letter!['reason'],
      'Splunk HEC HTTP 400 code 7 (Incorrect index): the record\'s index "no_such_index" (com.splunk.index)',
    );
    assert.equal(indexed(records[6]!.uuid).length, 0);
    records.forEach((r, i) => {
      if (i === 6) return;
      const [e] = indexed(r.uuid);
      assert.equal(e!.index, i % 3 === 0 ? 'audit_eu' : 'audit');
      assert.equal(e!.host, 'node-7', 'host.name of the resource');
    });
    // No request mixed indexes.
    const mine = server.requests.slice(before).filter((r) => r.path === '/services/collector/event');
    assert.ok(mine.length >= 3);
    for (const r of mine) assert.equal(r.indexes.length, 1, `a request with indexes ${r.indexes.join(', ')}`);
    const byIndex = new Map<string, number>();
    for (const r of records) for (const e of indexed(r.uuid)) byIndex.set(e.index, (byIndex.get(e.index) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(byIndex), { audit_eu: 3, audit: 8 });
    assert.equal(await s.stop(), 0);
  });

  it('keeps records through a token failure and delivers once the token works again', async () => {
    const { client, sidecar: s, dir, metrics } = await sidecar('auth', `    token: ${TOKEN}`, 'debug');
    tokens[0]!.disabled = true;
    try {
      const uuid = randomUUID();
      await client.log(GOLDEN[0]!.event(uuid));
      await until(
        async () => (await metrics()).includes('otel_audit_exporter_failing{exporter="splunk_hec"} 1'),
        10_000,
        'failing metric',
      );
      assert.equal(indexed(uuid).length, 0);
      assert.equal(
        (await readLines(join(dir, 'storage/dead-letter/splunk_hec.jsonl'))).length,
        0,
        'nothing dead-lettered',
      );
      assert.match(s.output.join('\n'), /code 1 \(Token disabled\): the token is disabled in Splunk/);
      tokens[0]!.disabled = false;
      await until(() => indexed(uuid).length > 0, 10_000, 'delivery after the token is enabled');
      await until(
        async () => (await metrics()).includes('otel_audit_exporter_failing{exporter="splunk_hec"} 0'),
        10_000,
        'recovered metric',
      );
    } finally {
      tokens[0]!.disabled = false;
    }
    // Wrong token: the same, and never the token in a log line, even at debug level.
    await client.shutdown();
    assert.equal(await s.stop(), 0);
    const wrong = await sidecar('wrong-token', `    token: not-${TOKEN}`, 'debug');
    const uuid = randomUUID();
    await wrong.client.log(GOLDEN[1]!.event(uuid));
    await until(() => wrong.sidecar.output.join('\n').includes('code 4 (Invalid token)'), 10_000, 'the refusal logged');
    await wrong.client.shutdown();
    await wrong.sidecar.stop();
    for (const out of [s.output, wrong.sidecar.output]) {
      const log = out.join('\n');
      assert.ok(!log.includes(TOKEN), 'the token appears in the logs');
    }
  });

  it('takes a rotated token from token_file without a restart, and keeps the records refused meanwhile', async () => {
    const before = { token: 'rotate-before-3c1d9e0a-41b7-4f2e-8d55-7a6b5c4d3e2f' };
    const rotated = { token: 'rotate-after-9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19' };
    tokens.push(before);
    const file = join(root, 'hec-token');
    await writeFile(file, `${before.token}\n`);
    // A long interval: the refusal itself must make the exporter look at the file again.
    const {
      client,
      sidecar: s,
      dir,
    } = await sidecar('token-file', `    token_file: ${file}\n    reload_interval: 1h`, 'debug');
    const first = randomUUID();
    await client.log(GOLDEN[0]!.event(first));
    await until(() => indexed(first).length > 0, 10_000, 'delivery with the first token');
    // Splunk revokes the old token; the new one is written to the file (a Secret update).
    tokens.splice(tokens.indexOf(before), 1, rotated);
    const second = randomUUID();
    await client.log(GOLDEN[1]!.event(second));
    await until(() => s.output.join('\n').includes('code 4 (Invalid token)'), 10_000, 'the refusal');
    await writeFile(file, `${rotated.token}\n`);
    await until(() => indexed(second).length > 0, 10_000, 'delivery with the rotated token');
    assert.match(s.output.join('\n'), /Splunk HEC token changed; using the new one/);
    assert.equal((await readLines(join(dir, 'storage/dead-letter/splunk_hec.jsonl'))).length, 0);
    await client.shutdown();
    assert.equal(await s.stop(), 0);
    const log = s.output.join('\n');
    assert.ok(!log.includes(before.token) && !log.includes(rotated.token), 'a token appears in the logs');
  });

  it('without a client certificate HEC refuses the TLS connection: records wait in the spool', async () => {
    const { client, sidecar: s, metrics } = await sidecar('no-client-cert', `    token: ${TOKEN}`, 'info', false);
    const uuid = randomUUID();
    await client.log(GOLDEN[0]!.event(uuid));
    await until(
      async () => (await metrics()).includes('otel_audit_exporter_failing{exporter="splunk_hec"} 1'),
      10_000,
      'failing metric',
    );
    assert.equal(indexed(uuid).length, 0);
    assert.match(s.output.join('\n'), /"msg":"delivery failing; retrying"/);
    await client.shutdown();
    await s.stop('SIGKILL');
  });

  it('retries busy (9), 503 and 429 with Retry-After until delivered', async () => {
    const { client, sidecar: s } = await sidecar('load', `    token: ${TOKEN}`);
    server.script.push(
      { code: 9 },
      { status: 503, body: '<html>Service Unavailable</html>' },
      { status: 429, headers: { 'Retry-After': '1' }, body: '' },
      { code: 18 },
    );
    const uuid = randomUUID();
    const t0 = Date.now();
    await client.log(GOLDEN[2]!.event(uuid));
    await until(() => indexed(uuid).length > 0, 15_000, 'the retried event');
    assert.ok(Date.now() - t0 >= 1000, 'Retry-After was honoured');
    assert.equal(indexed(uuid).length, 1);
    assert.equal(server.script.length, 0);
    await client.shutdown();
    assert.equal(await s.stop(), 0);
  });

  it('with ack: counts records as delivered only once acknowledged; resends what is never acknowledged', async (t) => {
    const {
      client,
      sidecar: s,
      metrics,
    } = await sidecar(
      'ack',
      `    token: ${ACK_TOKEN}
    ack: true
    ack_timeout: 1s
    ack_poll_interval: 100ms
    sending_queue:
      batch_size: 4`,
    );
    const exported = async () =>
      Number(
        /otel_audit_exporter_records_total\{exporter="splunk_hec",outcome="exported"\} (\d+)/.exec(
          await metrics(),
        )?.[1] ?? 0,
      );

    // Delayed acks (under ack_timeout): indexed at once, delivered only when the ack comes.
    server.ackDelayMs = 600;
    const delayed = [randomUUID(), randomUUID()];
    await client.logBatch(delayed.map((u) => GOLDEN[3]!.event(u)));
    await until(() => delayed.every((u) => indexed(u).length > 0), 10_000, 'delayed-ack events');
    assert.equal(await exported(), 0, 'not delivered before the ack');
    await until(async () => (await exported()) === 2, 10_000, 'delivered after the ack');
    assert.ok(
      delayed.every((u) => indexed(u).length === 1),
      'no duplicates',
    );
    const ackRequests = server.requests.filter((r) => r.path === '/services/collector/ack');
    assert.ok(ackRequests.length > 0 && ackRequests.every((r) => r.status === 200));
    const channels = new Set(server.requests.filter((r) => r.channel !== undefined).map((r) => r.channel));
    assert.equal(channels.size, 1, 'one channel per exporter instance');

    // A request lost before indexing (its ack never comes): resent after ack_timeout, nothing lost.
    server.ackDelayMs = 0;
    server.loseRequests = 1;
    const lost = Array.from({ length: 8 }, () => randomUUID());
    await client.logBatch(lost.map((u) => GOLDEN[4]!.event(u)));
    await until(() => lost.every((u) => indexed(u).length > 0), 15_000, 'every event of the lost request');
    assert.equal(server.loseRequests, 0);

    // Acks later than ack_timeout: resent, and both copies are indexed (duplicates, not losses).
    server.ackDelayMs = 1500;
    const late = Array.from({ length: 4 }, () => randomUUID());
    await client.logBatch(late.map((u) => GOLDEN[5]!.event(u)));
    await until(() => late.every((u) => indexed(u).length >= 2), 15_000, 'the resent late-ack events');
    server.ackDelayMs = 0;
    const duplicates = [...lost, ...late].reduce((n, u) => n + indexed(u).length - 1, 0);
    t.diagnostic(`ack: ${duplicates} duplicate events (of ${lost.length + late.length}) from resends without ack`);
    assert.ok(lost.every((u) => indexed(u).length >= 1));
    assert.ok(duplicates >= late.length);
    await until(async () => (await exported()) === 2 + lost.length + late.length, 15_000, 'all acknowledged');
    await client.shutdown();
    assert.equal(await s.stop(), 0);
  });

  it('starts and accepts records while HEC is unhealthy, and delivers once it recovers', async () => {
    server.healthCode = 18;
    server.mode = { code: 18 };
    try {
      const { client, sidecar: s } = await sidecar('unhealthy', `    token: ${TOKEN}`);
      await until(() => s.output.join('\n').includes('Splunk HEC reports a problem'), 5000, 'the health warning');
      const uuid = randomUUID();
      await client.log(GOLDEN[0]!.event(uuid));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(indexed(uuid).length, 0);
      server.mode = undefined;
      await until(() => indexed(uuid).length === 1, 10_000, 'delivery after recovery');
      await client.shutdown();
      assert.equal(await s.stop(), 0);
    } finally {
      server.healthCode = 17;
      server.mode = undefined;
    }
  });
});
