/**
 * The sap_auditlog_retrieval receiver in a real sidecar against the Retrieval API test server:
 * paging, the local records it writes to files and Splunk, tokens, 429/401/400/403/501, records
 * that become visible late, secrets kept out of the logs, and the config that would loop.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLines } from '../support/jsonl.js';
import { SIDECAR_CLI } from '../support/paths.js';
import { apiRecord, CATEGORIES, SapRetrievalServer } from '../support/sap-retrieval-server.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { SplunkHecServer } from '../support/splunk-hec-server.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/wait.js';

const CLIENT_ID = 'sb-3f2a!b77|auditlog-management!b77';
const SECRET = 'Zx9-retrieval-Secret-7Qm';
const HEC_TOKEN = '2c1f7e9d-3b4a-4c5d-8e6f-7a8b9c0d1e2f';

interface Setup {
  server: SapRetrievalServer;
  dir: string;
  cleanup: () => Promise<void>;
}

function retrievalConfig(
  server: SapRetrievalServer,
  options: { extra?: string; exporters?: string; exporterIds?: string[]; secret?: string } = {},
): string {
  return `receivers:
  sap_auditlog_retrieval/eu10:
    binding: config
    url: ${server.apiUrl}
    uaa:
      url: ${server.uaaUrl}
      clientid: "${CLIENT_ID}"
      clientsecret: ${options.secret ?? SECRET}
    system_id: prod-eu10
    poll_interval: 100ms
    ingest_delay: 0s
    overlap: 1m
    start_at: 2h
    max_requests_per_second: 40
${options.extra ?? ''}exporters:
  file:
    path: ./audit.jsonl
${options.exporters ?? ''}extensions:
  storage:
    directory: ./storage
service:
  telemetry:
    address: 127.0.0.1:0
    logs:
      level: debug
  pipelines:
    audit:
      receivers: [sap_auditlog_retrieval/eu10]
      exporters: [${(options.exporterIds ?? ['file']).join(', ')}]
`;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function uuidsInFile(dir: string): Promise<string[]> {
  return (await readLines(join(dir, 'audit.jsonl'))).map((r) => r['message_uuid'] as string);
}

describe('sap_auditlog_retrieval receiver', { timeout: 120_000 }, () => {
  const running: SidecarProcess[] = [];
  const setups: Setup[] = [];
  let hec: SplunkHecServer;

  before(async () => {
    hec = new SplunkHecServer({ tokens: [{ token: HEC_TOKEN }], indexes: ['main', 'audit'] });
    await hec.start();
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop('SIGKILL')));
    for (const s of setups) {
      await s.server.stop();
      await s.cleanup();
    }
    await hec.stop();
  });

  async function setup(options: ConstructorParameters<typeof SapRetrievalServer>[0] | object = {}): Promise<Setup> {
    const server = new SapRetrievalServer({ clientId: CLIENT_ID, clientSecret: SECRET, ...options });
    await server.start();
    const { dir, cleanup } = await tempDir('otel-audit-retrieval-');
    const s = { server, dir, cleanup };
    setups.push(s);
    return s;
  }

  async function start(dir: string, config: string): Promise<SidecarProcess> {
    const sidecar = await startSidecar({ dir, config });
    running.push(sidecar);
    return sidecar;
  }

  it('follows the paging handle over more than three pages into files and Splunk, each record once', async () => {
    const { server, dir } = await setup();
    const now = Date.now();
    const records = Array.from({ length: 1777 }, (_, i) =>
      apiRecord({
        time: now - 3_600_000 + i * 1000,
        category: CATEGORIES[i % 4],
        user: `user-${i % 7}`,
        messageAs: i % 2 === 0 ? 'object' : 'string',
      }),
    );
    server.add(records);
    const sidecar = await start(
      dir,
      retrievalConfig(server, {
        exporters: `  splunk_hec:\n    endpoint: ${hec.url()}\n    token: ${HEC_TOKEN}\n    index: audit\n    health_check_enabled: false\n`,
        exporterIds: ['file', 'splunk_hec'],
      }),
    );
    await until(async () => (await uuidsInFile(dir)).length >= records.length, 30_000, 'every record in the file');
    await until(() => records.every((r) => hec.eventsFor(r.message_uuid).length > 0), 30_000, 'every record in Splunk');

    const lines = await readLines(join(dir, 'audit.jsonl'));
    assert.equal(lines.length, records.length, 'each record once in the file');
    assert.deepEqual(new Set(lines.map((l) => l['message_uuid'])), new Set(records.map((r) => r.message_uuid)));
    // Pages: 4 for the first window, then small windows as time goes on; every handle came back unchanged.
    assert.equal(server.badHandles, 0);
    const paged = server.queries.filter((q) => q.has('handle'));
    assert.ok(paged.length >= 3, `${paged.length} requests with a handle`);
    for (const q of paged) {
      assert.match(q.get('time_from')!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      assert.ok(q.has('time_to'), 'the window is sent again with the handle');
    }

    // The local record: the API's fields kept, the message an object even when it came as text, the system as resource.
    const byUuid = new Map(lines.map((l) => [l['message_uuid'], l]));
    for (const [i, r] of records.entries()) {
      const l = byUuid.get(r.message_uuid)!;
      const message = typeof r.message === 'string' ? (JSON.parse(r.message) as Record<string, unknown>) : r.message;
      assert.deepEqual(l['message'], message, `record ${i}`);
      for (const k of [
        'time',
        'category',
        'tenant',
        'user',
        'org_id',
        'space_id',
        'app_or_service_id',
        'als_service_id',
      ])
        assert.equal(l[k], r[k as keyof typeof r], `${k} of record ${i}`);
      assert.equal(l['format_version'], '');
      assert.deepEqual(l['resource'], { 'sap.auditlog.system_id': 'prod-eu10' });
      if (typeof message['success'] === 'boolean') assert.equal(l['success'], message['success']);
    }
    const text = await readFile(join(dir, 'audit.jsonl'), 'utf8');
    assert.ok(text.startsWith('{"message_uuid":'), 'each line starts with message_uuid, as the file exporter expects');

    // Splunk: source = system_id, the local record as event, time from the record.
    for (const r of records.slice(0, 50)) {
      const [e] = hec.eventsFor(r.message_uuid);
      assert.equal(e!.source, 'prod-eu10');
      assert.equal(e!.index, 'audit');
      assert.equal(Number(e!.time), Date.parse(r.time) / 1000);
      // The file's line is the same record plus its hash-chain link, which is the file's alone.
      const { chain: _chain, ...fileRecord } = byUuid.get(r.message_uuid)!;
      assert.deepEqual(e!.event, fileRecord);
    }

    const { body } = await httpGet(`http://${sidecar.endpoints['telemetry']!}/metrics`);
    const receiver = 'receiver="sap_auditlog_retrieval/eu10"';
    assert.equal(metric(body, 'otel_audit_retrieval_records_total', `outcome="imported"`), records.length);
    assert.ok(metric(body, 'otel_audit_retrieval_pages_total', receiver) >= 4);
    assert.ok(metric(body, 'otel_audit_retrieval_requests_total', 'status="200"') >= 4);
    const lag = metric(body, 'otel_audit_retrieval_lag_seconds', receiver);
    assert.ok(lag > 0 && lag < 10, `lag ${lag}`);
    assert.equal(metric(body, 'otel_audit_receiver_records_total', 'outcome="accepted"'), records.length);
    await sidecar.stop();
  });

  it('imports a record that becomes visible late, inside the overlap, exactly once', async () => {
    const { server, dir } = await setup();
    const now = Date.now();
    const early = Array.from({ length: 20 }, (_, i) => apiRecord({ time: now - 120_000 + i * 1000 }));
    server.add(early);
    const late = apiRecord({ time: now - 20_000, user: 'late' });
    const sidecar = await start(dir, retrievalConfig(server));
    await until(async () => (await uuidsInFile(dir)).length === early.length, 20_000, 'the early records');
    // Its window has been queried (and checkpointed) already: only the overlap can find it now.
    await until(() => sidecar.output.some((l) => l.includes('"imported":20')), 5000, 'first window');
    server.add([late]);
    await until(async () => (await uuidsInFile(dir)).includes(late.message_uuid), 20_000, 'the late record');
    // Several more windows over the same overlap: no copy of anything.
    const requests = server.apiRequests;
    await until(() => server.apiRequests >= requests + 4, 20_000, 'more windows');
    const uuids = await uuidsInFile(dir);
    assert.equal(uuids.length, early.length + 1);
    assert.equal(new Set(uuids).size, uuids.length);
    const { body } = await httpGet(`http://${sidecar.endpoints['telemetry']!}/metrics`);
    // The late record comes again with each later window's overlap, and is dropped each time.
    assert.ok(metric(body, 'otel_audit_retrieval_records_total', 'outcome="duplicate"') >= 3);
    await sidecar.stop();
  });

  it('reuses its token (at most 3 per run, one refresh after a 401) and never logs the secret', async () => {
    const { server, dir } = await setup();
    const now = Date.now();
    server.add(Array.from({ length: 1200 }, (_, i) => apiRecord({ time: now - 3_000_000 + i * 2000 })));
    // The token endpoint refuses once (bad credentials text echoing nothing secret), then works.
    server.tokenScript.push({ status: 503, body: 'busy' });
    const sidecar = await start(dir, retrievalConfig(server));
    await until(async () => (await uuidsInFile(dir)).length === 1200, 30_000, 'all records');
    const requests = server.apiRequests;
    await until(() => server.apiRequests >= requests + 3, 20_000, 'more windows');
    assert.equal(server.tokensIssued, 1, 'one token for many requests');
    server.revokeTokens();
    server.add([apiRecord({ time: Date.now() - 5000 })]);
    await until(async () => (await uuidsInFile(dir)).length === 1201, 20_000, 'a record after the revocation');
    assert.equal(server.tokensIssued, 2, 'one new token after the 401');
    assert.ok(server.statuses.includes(401));
    await sidecar.stop();
    assert.ok(server.tokensIssued <= 3);
    const log = sidecar.output.join('\n');
    assert.ok(!log.includes(SECRET), 'the client secret is not in the logs');
    assert.ok(!log.includes('eyJ.'), 'no token in the logs');
    assert.match(log, /SAP Audit Log Retrieval receiver ready/);
  });

  it('waits out a 429, stays ready while SAP refuses (400/403 named, retried at poll_interval), falls back from the category filter', async () => {
    const { server, dir } = await setup({ categoryFilterUnsupported: true });
    const now = Date.now();
    const records = Array.from({ length: 30 }, (_, i) =>
      apiRecord({ time: now - 600_000 + i * 1000, category: CATEGORIES[i % 4] }),
    );
    server.add(records);
    server.apiScript.push({ status: 429, headers: { 'Retry-After': '1' }, body: '{"error":"rate"}' });
    const sidecar = await start(
      dir,
      retrievalConfig(server, {
        extra: '    categories: [audit.security-events, audit.data-access]\n',
      }),
    );
    await until(async () => (await uuidsInFile(dir)).length === records.length, 20_000, 'every record');
    const log = () => sidecar.output.join('\n');
    assert.equal(log().match(/retrieving all categories from now on/g)?.length, 1, 'the fallback is logged once');
    assert.ok(server.statuses.includes(429) && server.statuses.includes(501));
    const telemetry = `http://${sidecar.endpoints['telemetry']!}`;
    assert.equal(
      metric((await httpGet(`${telemetry}/metrics`)).body, 'otel_audit_retrieval_throttled_total', 'eu10'),
      1,
    );

    // 403, then 400: named in the log, retried at poll_interval (100 ms), not in a tight loop; /readyz stays ready.
    for (const status of [403, 400]) {
      const body = JSON.stringify({ error: { code: status === 403 ? 'forbidden' : 'bad_request', message: 'no' } });
      for (let i = 0; i < 1000; i++) server.apiScript.push({ status, body });
      const before = server.apiRequests;
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 1500));
      const rate = (server.apiRequests - before) / ((Date.now() - t0) / 1000);
      assert.ok(rate > 2 && rate <= 12, `${rate} requests/s at a 100 ms poll_interval`);
      assert.equal((await httpGet(`${telemetry}/readyz`)).status, 200);
      server.apiScript.splice(0);
    }
    assert.match(log(), /answers 403 \(forbidden\).*may not read this account's audit logs/);
    assert.match(log(), /answers 400 \(bad request\)/);
    assert.equal(log().match(/answers 403/g)?.length, 1, 'a repeating failure is logged once');
    server.add([apiRecord({ time: Date.now() - 2000 })]);
    await until(async () => (await uuidsInFile(dir)).length === records.length + 1, 20_000, 'recovered');
    assert.match(log(), /reachable again/);
    await sidecar.stop();
  });

  it('gives Splunk the source the exporter config sets, over the system id', async () => {
    const { server, dir } = await setup();
    const r = apiRecord({ time: Date.now() - 60_000 });
    server.add([r]);
    const sidecar = await start(
      dir,
      retrievalConfig(server, {
        exporters: `  splunk_hec:\n    endpoint: ${hec.url()}\n    token: ${HEC_TOKEN}\n    source: btp-audit\n    health_check_enabled: false\n`,
        exporterIds: ['splunk_hec'],
      }),
    );
    await until(() => hec.eventsFor(r.message_uuid).length > 0, 20_000, 'the event');
    assert.equal(hec.eventsFor(r.message_uuid)[0]!.source, 'btp-audit');
    await sidecar.stop();
  });

  it('validate refuses a pipeline that would send retrieved records to sap_auditlog', async () => {
    const { server, dir } = await setup();
    const file = join(dir, 'loop.yaml');
    const config = retrievalConfig(server, {
      exporters: `  sap_auditlog:\n    url: https://api.auditlog.example:6081\n    uaa: { url: https://x.authentication.example, clientid: c, clientsecret: s }\n`,
      exporterIds: ['file', 'sap_auditlog'],
    });
    await writeFile(file, config);
    const r = spawnSync(process.execPath, [SIDECAR_CLI, 'validate', '--config', file], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stdout,
      /service\.pipelines\.audit\.exporters\[1\].*"sap_auditlog" cannot export the records of receiver "sap_auditlog_retrieval\/eu10": they were retrieved from SAP Audit Log Service and would be written back to it/,
    );
    const run = spawnSync(process.execPath, [SIDECAR_CLI, 'run', '--config', file], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.notEqual(run.status, 0, 'run refuses it too');
  });
});
