/**
 * The sap_auditlog exporter end to end: SDK → OTLP → sidecar → the SAP Audit Log Service test
 * server, for each plan, path and credential form, with tokens that expire, subscriber tenants,
 * every error class, rotated bindings, and no secret in the logs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createAuditClient, SecurityEvent, type AuditEvent } from '@otel-audit/sdk';
import { cleanupAfter } from '../support/cleanup.js';
import { readLines } from '../support/jsonl.js';
import { DNS_SHIM } from '../support/paths.js';
import { SapAuditLogServer } from '../support/sap-auditlog-server.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { createTestPki, type TestPki } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/wait.js';
import { GOLDEN } from './golden.js';

const CLIENT_ID = 'sb-otel-audit-test!b1|auditlog!b2';
const CLIENT_SECRET = 'very-secret-Zq7w+/x=';
const BASIC_PASSWORD = 'basic-password-Ky2';

describe('sap_auditlog exporter', () => {
  let pki: TestPki;
  let server: SapAuditLogServer;
  let root: string;
  const running: SidecarProcess[] = [];
  const defer = cleanupAfter();

  before(async () => {
    const tmp = await tempDir('otel-audit-sap-');
    root = tmp.dir;
    defer(tmp.cleanup);
    pki = createTestPki(join(root, 'pki'));
    server = new SapAuditLogServer(pki, {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      providerZone: 'provider',
      subscriberZones: ['customer-a'],
      tokenTtlSeconds: 3600,
      basicUser: 'auditlog-user',
      basicPassword: BASIC_PASSWORD,
    });
    await server.start();
    defer(() => server.stop());
    defer(() => Promise.all(running.map((s) => s.kill())));
  });

  /** A sidecar with one sap_auditlog exporter configured by `exporterYaml` (indented under it). */
  async function sidecar(name: string, exporterYaml: string, env: Record<string, string> = {}, logLevel = 'info') {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const config = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  sap_auditlog:
${exporterYaml}
    tls:
      ca_file: ${pki.caFile}
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 300ms
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
      exporters: [sap_auditlog]
`;
    const s = await startSidecar({ dir, config, env, nodeArgs: ['--import', DNS_SHIM] });
    running.push(s);
    const client = createAuditClient({ endpoint: `http://${s.endpoints['otlp/http']!}` });
    defer(() => client.shutdown());
    return { sidecar: s, dir, client };
  }

  const secretYaml = () => `    url: ${server.apiUrl}
    uaa:
      url: ${server.uaaUrl()}
      clientid: "${CLIENT_ID}"
      clientsecret: "${CLIENT_SECRET}"`;

  function delivered(uuid: string) {
    return server.messages.find((m) => m.body['uuid'] === uuid);
  }

  async function logAll(client: ReturnType<typeof createAuditClient>, events: AuditEvent[]) {
    for (const e of events) await client.log(e);
  }

  it('oauth2 plan with a client secret: all six event types arrive with the exact SAP bodies', async () => {
    const { client, sidecar: s } = await sidecar('oauth2-secret', secretYaml(), {
      VCAP_APPLICATION: JSON.stringify({ organization_name: 'my-org', space_name: 'dev', application_name: 'billing' }),
    });
    const uuids = GOLDEN.map(() => randomUUID());
    await logAll(
      client,
      GOLDEN.map((c, i) => c.event(uuids[i]!)),
    );
    await until(() => uuids.every((u) => delivered(u)), 10_000, 'all six messages');
    GOLDEN.forEach((c, i) => {
      const m = delivered(uuids[i]!)!;
      assert.equal(m.path, `/audit-log/oauth2/v2/${m.endpoint}`);
      assert.equal(JSON.stringify(m.body), JSON.stringify(c.sap(uuids[i]!)), c.name);
      // The deletion case carries a subscriber subdomain: its token comes from that subscriber.
      assert.equal(m.zone, c.event(uuids[i]!).tenantSubdomain ?? 'provider');
      assert.equal(m.headers['content-type'], 'application/json; charset=UTF-8');
      assert.equal(m.headers['xs_audit_org'], 'my-org');
      assert.equal(m.headers['xs_audit_space'], 'dev');
      assert.equal(m.headers['xs_audit_app'], 'billing');
    });
    assert.deepEqual(
      GOLDEN.map((_, i) => delivered(uuids[i]!)!.endpoint),
      [
        'security-events',
        'data-accesses',
        'data-modifications',
        'data-modifications',
        'configuration-changes',
        'configuration-changes',
      ],
    );
    await client.shutdown();
    assert.equal(await s.stop(), 0);
  });

  it('premium plan with an x509 binding from VCAP_SERVICES: token over mTLS to certurl', async () => {
    const vcap = {
      auditlog: [
        {
          label: 'auditlog',
          plan: 'premium',
          name: 'my-auditlog',
          credentials: {
            url: server.apiUrl,
            uaa: {
              clientid: CLIENT_ID,
              'credential-type': 'x509',
              certificate: pki.clientCert,
              key: pki.clientKey,
              certurl: server.certUrl(),
              url: server.uaaUrl(),
              identityzone: 'provider',
            },
          },
        },
      ],
    };
    const before = server.tokensIssued.length;
    const { client } = await sidecar('premium-x509', '    binding: auto', { VCAP_SERVICES: JSON.stringify(vcap) });
    const uuid = randomUUID();
    await client.log(new SecurityEvent({ uuid, data: 'premium x509 login' }));
    await until(() => delivered(uuid) !== undefined, 10_000, 'the message');
    assert.equal(
      delivered(uuid)!.path,
      '/audit-log/oauth2/v2/security-events',
      'premium with a port uses the oauth2 path',
    );
    assert.deepEqual(server.tokensIssued.slice(before), [{ zone: 'provider', via: 'x509' }]);
    await client.shutdown();
  });

  it('SAP Converged Cloud premium path, and the standard plan with basic auth from a secretKey binding', async () => {
    const a = await sidecar('premium-path', `${secretYaml()}\n    api_path: premium`);
    const ua = randomUUID();
    await a.client.log(new SecurityEvent({ uuid: ua, data: 'converged cloud' }));
    await until(() => delivered(ua) !== undefined, 10_000, 'premium-path message');
    assert.equal(delivered(ua)!.path, '/audit-log/premium/v2/security-events');

    const bindings = join(root, 'bindings-standard');
    await mkdir(join(bindings, 'auditlog'), { recursive: true });
    await writeFile(
      join(bindings, 'auditlog/.metadata'),
      JSON.stringify({
        metaDataProperties: [
          { name: 'plan', format: 'text' },
          { name: 'type', format: 'text' },
        ],
        credentialProperties: [{ name: 'credentials', format: 'json', container: true }],
      }),
    );
    await writeFile(join(bindings, 'auditlog/plan'), 'standard');
    await writeFile(join(bindings, 'auditlog/type'), 'auditlog');
    await writeFile(
      join(bindings, 'auditlog/credentials'),
      JSON.stringify({ url: server.apiUrl, user: 'auditlog-user', password: BASIC_PASSWORD }),
    );
    const b = await sidecar('standard', '    binding: service_binding', { SERVICE_BINDING_ROOT: bindings });
    const ub = randomUUID();
    await b.client.log(new SecurityEvent({ uuid: ub, data: 'standard plan' }));
    await until(() => delivered(ub) !== undefined, 10_000, 'standard message');
    assert.equal(delivered(ub)!.path, '/audit-log/v2/security-events');
    assert.equal(delivered(ub)!.zone, 'basic');
    await a.client.shutdown();
    await b.client.shutdown();
  });

  it('renews expiring tokens mid-stream and refreshes once after a 401', async (t) => {
    const short = new SapAuditLogServer(pki, {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      providerZone: 'provider',
      tokenTtlSeconds: 1,
    });
    await short.start();
    t.after(() => short.stop());
    const yaml = `    url: ${short.apiUrl}\n    uaa:\n      url: ${short.uaaUrl()}\n      clientid: "${CLIENT_ID}"\n      clientsecret: "${CLIENT_SECRET}"`;
    const { client } = await sidecar('token-expiry', yaml);
    const uuids: string[] = [];
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      const uuid = randomUUID();
      uuids.push(uuid);
      await client.log(new SecurityEvent({ uuid, data: 'streaming' }));
      await new Promise((r) => setTimeout(r, 50));
    }
    await until(
      () => uuids.every((u) => short.messages.some((m) => m.body['uuid'] === u)),
      10_000,
      'all streamed messages',
    );
    assert.ok(short.tokensIssued.length >= 3, `${short.tokensIssued.length} tokens for 3 s of 1 s tokens`);
    assert.ok(!short.statuses.includes(401), 'tokens are renewed before they expire');

    short.revokeTokens();
    const after401 = randomUUID();
    await client.log(new SecurityEvent({ uuid: after401, data: 'after revocation' }));
    await until(
      () => short.messages.some((m) => m.body['uuid'] === after401),
      10_000,
      'the message after a revoked token',
    );
    assert.equal(short.statuses.filter((s) => s === 401).length, 1, 'one 401, then a fresh token');
    await client.shutdown();
    await short.stop();
  });

  it('fetches a subscriber token from the subscriber subdomain', async () => {
    const { client } = await sidecar('subscriber', `${secretYaml()}\n      identityzone: provider`);
    const uuid = randomUUID();
    await client.log(
      new SecurityEvent({ uuid, data: 'subscriber login', tenant: '$SUBSCRIBER', tenantSubdomain: 'customer-a' }),
    );
    const provider = randomUUID();
    await client.log(new SecurityEvent({ uuid: provider, data: 'provider login' }));
    await until(() => delivered(uuid) !== undefined && delivered(provider) !== undefined, 10_000, 'both messages');
    assert.equal(delivered(uuid)!.zone, 'customer-a');
    assert.equal(delivered(uuid)!.body['tenant'], '$SUBSCRIBER');
    assert.equal(delivered(provider)!.zone, 'provider');
    await client.shutdown();
  });

  it('dead-letters what SAP refuses for good, retries load and outages, and never sends a message over 10 KB', async () => {
    const { client, dir, sidecar: s } = await sidecar('errors', secretYaml());
    const letters = join(dir, 'storage/dead-letter/sap_auditlog.jsonl');
    const cases: [number, string][] = [
      [400, '{"error":"invalid attributes"}'],
      [403, '{"error":"forbidden"}'],
      [413, '{"error":"The Audit log message size exceeds 10KB"}'],
    ];
    for (const [status, body] of cases) {
      server.apiScript.push({ status, body });
      const uuid = randomUUID();
      await client.log(new SecurityEvent({ uuid, data: `refused with ${status}` }));
      await until(
        async () => (await readLines(letters)).some((l) => l['uuid'] === uuid),
        10_000,
        `dead letter for ${status}`,
      );
      const letter = (await readLines(letters)).find((l) => l['uuid'] === uuid)!;
      assert.equal(letter['exporter'], 'sap_auditlog');
      assert.match(String(letter['reason']), new RegExp(`^SAP Audit Log Service HTTP ${status}: `));
      assert.ok(!delivered(uuid));
    }

    server.apiScript.push(
      { status: 429, headers: { 'Retry-After': '1' } },
      { status: 503 },
      { status: 502 },
      { status: 500 },
    );
    const retried = randomUUID();
    const t0 = Date.now();
    await client.log(new SecurityEvent({ uuid: retried, data: 'retried until delivered' }));
    await until(() => delivered(retried) !== undefined, 15_000, 'the retried message');
    assert.ok(Date.now() - t0 >= 1000, 'Retry-After was honoured');

    const big = randomUUID();
    const beforeRequests = server.statuses.length;
    await client.log(new SecurityEvent({ uuid: big, data: 'x'.repeat(11 * 1024) }));
    await until(
      async () => (await readLines(letters)).some((l) => l['uuid'] === big),
      10_000,
      'the oversized dead letter',
    );
    const letter = (await readLines(letters)).find((l) => l['uuid'] === big)!;
    assert.match(String(letter['reason']), /accepts at most 10240/);
    assert.equal(server.statuses.length, beforeRequests, 'the oversized message was never sent');
    await client.shutdown();
    assert.equal(await s.stop(), 0);
  });

  it('keeps records through an auth outage and delivers after the mounted binding rotates', async () => {
    const bindings = join(root, 'bindings-rotate');
    const binding = join(bindings, 'my-auditlog');
    await mkdir(binding, { recursive: true });
    const writeBinding = async (secret: string) => {
      await writeFile(
        join(binding, '.metadata'),
        JSON.stringify({
          metaDataProperties: [
            { name: 'type', format: 'text' },
            { name: 'plan', format: 'text' },
          ],
          credentialProperties: [
            { name: 'url', format: 'text' },
            { name: 'uaa', format: 'json' },
          ],
        }),
      );
      await writeFile(join(binding, 'type'), 'auditlog');
      await writeFile(join(binding, 'plan'), 'oauth2');
      await writeFile(join(binding, 'url'), server.apiUrl);
      await writeFile(
        join(binding, 'uaa'),
        JSON.stringify({ url: server.uaaUrl(), clientid: CLIENT_ID, clientsecret: secret }),
      );
    };
    await writeBinding('an-old-rotated-away-secret');
    const {
      client,
      sidecar: s,
      dir,
    } = await sidecar(
      'rotation',
      '    binding: auto\n    reload_interval: 200ms',
      { SERVICE_BINDING_ROOT: bindings },
      'debug',
    );
    const uuid = randomUUID();
    await client.log(new SecurityEvent({ uuid, data: 'during the auth outage' }));
    const metricsUrl = `http://${s.endpoints['telemetry']!}/metrics`;
    await until(
      async () =>
        (await (await fetch(metricsUrl)).text()).includes('otel_audit_exporter_failing{exporter="sap_auditlog"} 1'),
      10_000,
      'failing metric',
    );
    assert.ok(!delivered(uuid));
    assert.equal(
      (await readLines(join(dir, 'storage/dead-letter/sap_auditlog.jsonl'))).length,
      0,
      'nothing dead-lettered',
    );

    await writeBinding(CLIENT_SECRET);
    await until(() => delivered(uuid) !== undefined, 15_000, 'delivery after rotation');
    assert.match(s.output.join('\n'), /credentials changed; using the new ones/);
    await client.shutdown();
    assert.equal(await s.stop(), 0);

    // Nothing secret in any log line, even at debug level and through an auth failure.
    const log = s.output.join('\n');
    for (const secret of [CLIENT_SECRET, 'an-old-rotated-away-secret', pki.clientKey.split('\n')[1]!]) {
      assert.ok(!log.includes(secret), 'a secret appears in the logs');
    }
    assert.ok(!/eyJ\.[0-9a-f-]{36}\.sig/.test(log), 'a token appears in the logs');
  });

  it('starts without credentials, says where it looked, keeps records and delivers once a binding appears', async () => {
    const bindings = join(root, 'bindings-late');
    await mkdir(bindings, { recursive: true });
    const { client, sidecar: s } = await sidecar('late-binding', '    binding: auto\n    reload_interval: 200ms', {
      SERVICE_BINDING_ROOT: bindings,
      VCAP_SERVICES: '',
    });
    const uuid = randomUUID();
    await client.log(new SecurityEvent({ uuid, data: 'before the binding exists' }));
    assert.match(
      s.output.join('\n'),
      /no SAP Audit Log Service credentials found; looked at: url\/uaa in the exporter config; bindings of type auditlog under SERVICE_BINDING_ROOT=.*bindings-late; VCAP_SERVICES \(not set\)/,
    );
    assert.ok(!delivered(uuid));
    await mkdir(join(bindings, 'auditlog'), { recursive: true });
    await writeFile(join(bindings, 'auditlog/url'), server.apiUrl);
    await writeFile(
      join(bindings, 'auditlog/uaa'),
      JSON.stringify({ url: server.uaaUrl(), clientid: CLIENT_ID, clientsecret: CLIENT_SECRET }),
    );
    await until(() => delivered(uuid) !== undefined, 15_000, 'delivery once the binding exists');
    await client.shutdown();
  });

  it('breaks off slow requests at shutdown_timeout and delivers the records after the restart', async () => {
    const yaml = `${secretYaml()}\n    timeout: 60s\n    max_concurrency: 2`;
    const first = await sidecar('slow-shutdown', yaml);
    const uuids = Array.from({ length: 10 }, () => randomUUID());
    server.apiDelayMs = 120_000;
    try {
      await logAll(
        first.client,
        uuids.map((uuid) => new SecurityEvent({ uuid, data: 'sent while SAP is slow' })),
      );
      await first.client.shutdown();
      const started = Date.now();
      assert.equal(await first.sidecar.stop(), 0);
      // shutdown_timeout is 1s; without breaking off, the requests would hold the shutdown for `timeout` (60 s).
      const took = Date.now() - started;
      assert.ok(took < 5_000, `shutdown took ${took} ms`);
      assert.match(first.sidecar.output.join('\n'), /shutting down before the SAP Audit Log Service confirmed/);
    } finally {
      server.apiDelayMs = 0;
    }
    assert.equal(uuids.filter((u) => delivered(u)).length, 0);
    const second = await sidecar('slow-shutdown', yaml);
    await until(() => uuids.every((u) => delivered(u)), 15_000, 'every record after the restart');
    assert.equal(await second.sidecar.stop(), 0);
  });
});
