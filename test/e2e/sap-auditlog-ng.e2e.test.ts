/**
 * The sap_auditlog_ng exporter end to end: SDK → OTLP → sidecar → the NG test server, for both
 * wire formats (OTLP protobuf and the JSON envelopes), all six event types against golden bodies,
 * every error class, the binding layouts (config, VCAP_SERVICES user-provided, mounted bindings),
 * rotated certificates, deterministic ids across a resend, and no key in the logs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  createAuditClient,
  DataDeletionEvent,
  DeletedAttribute,
  SecurityEvent,
  type AuditEvent,
} from '@otel-audit/sdk';
import { cleanupAfter } from '../support/cleanup.js';
import { readLines } from '../support/jsonl.js';
import { DNS_SHIM } from '../support/paths.js';
import { SapAuditLogNgServer, type NgStoredEvent } from '../support/sap-auditlog-ng-server.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { createTestPki, type TestPki } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/wait.js';
import { GOLDEN, TIME } from './golden.js';

// UPDATE_GOLDEN=1 node scripts/run-tests.mjs sap-auditlog-ng.e2e rewrites test/e2e/golden/ng-*.json.
const GOLDEN_DIR = fileURLToPath(new URL('../../e2e/golden/', import.meta.url));
const PROVIDER_TENANT = 'b7f4c1a2-0d3e-4f5a-8b6c-7d8e9f0a1b2c';
const SUBSCRIBER_ZONE = '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9';
const PASSPHRASE = 'key-passphrase-Xy9!';

/** Six events, one per type: the shared golden events, the deletion with a subscriber zone id (NG takes tenant ids). */
function sixEvents(): { uuid: string; event: AuditEvent }[] {
  return GOLDEN.map((c, i) => {
    const uuid = `00000000-0000-4000-8000-00000000000${i + 1}`;
    if (c.eventName !== 'audit.data_deletion') return { uuid, event: c.event(uuid) };
    return {
      uuid,
      event: new DataDeletionEvent({
        uuid,
        time: TIME,
        tenant: SUBSCRIBER_ZONE,
        objectType: 'customer',
        objectId: { id: '4711' },
        subjectType: 'customer',
        subjectId: { id: '4711' },
        attributes: [new DeletedAttribute('email', 'jane@example.com'), new DeletedAttribute('phone')],
      }),
    };
  });
}

/** The events as compared with the golden files: without what varies from run to run. */
function comparable(events: readonly NgStoredEvent[]): unknown[] {
  return events.map((e) => {
    if (e.format === 'json') return e.body;
    const { observedTimeUnixNano: _observed, ...record } = e.record!;
    return { eventName: e.type, id: e.id, record, message: e.body };
  });
}

function assertGolden(name: string, actual: unknown): void {
  const file = join(GOLDEN_DIR, name);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review it`);
  assert.deepEqual(
    actual,
    JSON.parse(readFileSync(file, 'utf8')),
    `${name} differs (UPDATE_GOLDEN=1 to rewrite, then review)`,
  );
}

describe('sap_auditlog_ng exporter', () => {
  let pki: TestPki;
  let server: SapAuditLogNgServer;
  let root: string;
  let encryptedKey: string;
  const running: SidecarProcess[] = [];
  const defer = cleanupAfter();

  before(async () => {
    const tmp = await tempDir('otel-audit-ng-');
    root = tmp.dir;
    defer(tmp.cleanup);
    pki = createTestPki(join(root, 'pki'));
    const { createPrivateKey } = await import('node:crypto');
    encryptedKey = createPrivateKey(pki.clientKey)
      .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSPHRASE })
      .toString();
    server = new SapAuditLogNgServer(pki);
    await server.start();
    defer(() => server.stop());
    defer(() => Promise.all(running.map((s) => s.kill())));
  });

  /** The credentials of an `auditlog-ng` binding (the key encrypted, with its passphrase). */
  const credentials = (extra: Record<string, string> = {}) => ({
    url: server.url,
    region: 'eu10',
    namespace: 'sap.otel-audit.test',
    cert: pki.clientCert,
    key: encryptedKey,
    keyPassphrase: PASSPHRASE,
    ...extra,
  });

  async function sidecar(
    name: string,
    exporterYaml: string,
    env: Record<string, string> = {},
    logLevel = 'info',
  ): Promise<{ sidecar: SidecarProcess; dir: string; client: ReturnType<typeof createAuditClient> }> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const config = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  sap_auditlog_ng:
${exporterYaml}
    tenant_id: ${PROVIDER_TENANT}
    app_id: billing-app
    reload_interval: 200ms
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
      exporters: [sap_auditlog_ng]
`;
    const s = await startSidecar({ dir, config, env: { VCAP_SERVICES: '', ...env }, nodeArgs: ['--import', DNS_SHIM] });
    running.push(s);
    const client = createAuditClient({ endpoint: `http://${s.endpoints['otlp/http']!}` });
    defer(() => client.shutdown());
    return { sidecar: s, dir, client };
  }

  const vcapEnv = (extra: Record<string, string> = {}) => ({
    VCAP_SERVICES: JSON.stringify({
      'user-provided': [{ label: 'user-provided', name: 'auditlog-ng', tags: [], credentials: credentials(extra) }],
    }),
  });

  function eventsOf(uuid: string): NgStoredEvent[] {
    return server.events.filter((e) => {
      if (e.format === 'json') {
        const data = (e.body['data'] as { metadata: { appContext?: Record<string, string> } }).metadata;
        return data.appContext?.['otel_audit.record_uuid'] === uuid;
      }
      const common = (e.body['common'] as { appContext?: Record<string, string> }).appContext;
      return common?.['otel_audit.record_uuid'] === uuid;
    });
  }

  for (const format of ['json', 'otlp'] as const) {
    it(`format ${format}: all six event types arrive as golden NG bodies over mTLS, one event per attribute`, async () => {
      const { client, sidecar: s } = await sidecar(`six-${format}`, `    format: ${format}`, vcapEnv());
      const six = sixEvents();
      server.events.splice(0); // the golden uuids are the same for both formats
      for (const { event } of six) await client.log(event);
      // security 1, data access 2 attributes, modification 1, deletion 2, configuration change 1, deletion 1
      const expected = [1, 2, 1, 2, 1, 1];
      await until(
        () => six.every(({ uuid }, i) => eventsOf(uuid).length === expected[i]),
        10_000,
        `all NG events (refused: ${server.refusals.join('; ')})`,
      );
      const all = six.flatMap(({ uuid }) => eventsOf(uuid));
      assert.ok(
        all.every((e) => e.clientCn === 'sb-otel-audit-test!b1|auditlog!b2'),
        'sent with the binding certificate',
      );
      assert.deepEqual(
        all.map((e) => e.tenant),
        [
          PROVIDER_TENANT,
          PROVIDER_TENANT,
          PROVIDER_TENANT,
          PROVIDER_TENANT,
          SUBSCRIBER_ZONE,
          SUBSCRIBER_ZONE,
          PROVIDER_TENANT,
          PROVIDER_TENANT,
        ],
      );
      if (format === 'otlp') {
        assert.equal(all[0]!.headers['content-encoding'], 'gzip');
        assert.deepEqual(
          all.map((e) => e.type.slice('sap.auditlog.auditevent.v2.'.length)),
          [
            'ZzzCustomEvent',
            'DppDataAccess',
            'DppDataAccess',
            'DppDataModification',
            'DppDataDelete',
            'DppDataDelete',
            'ConfigurationChange',
            'ConfigurationDelete',
          ],
        );
      } else {
        assert.equal(all[0]!.headers['content-encoding'], undefined);
      }
      assertGolden(`ng-${format}.json`, comparable(all));
      await client.shutdown();
      assert.equal(await s.stop(), 0);
    });
  }

  it('a resend after a crash carries the same event ids (derived from the record uuid)', async () => {
    const uuid = randomUUID();
    const { client, sidecar: s } = await sidecar('resend', '    format: json', vcapEnv());
    server.mode = { status: 503 };
    try {
      await client.log(
        new DataDeletionEvent({
          uuid,
          tenant: SUBSCRIBER_ZONE,
          objectType: 'customer',
          objectId: { id: '1' },
          subjectType: 'customer',
          subjectId: { id: '1' },
          attributes: [new DeletedAttribute('a', 'x'), new DeletedAttribute('b', 'y')],
        }),
      );
      await until(() => server.statuses.filter((x) => x === 503).length >= 2, 10_000, 'failing attempts');
      await client.shutdown();
      assert.equal(await s.stop('SIGKILL'), 'SIGKILL');
    } finally {
      server.mode = undefined;
    }
    const second = await sidecar('resend', '    format: json', vcapEnv());
    await until(() => eventsOf(uuid).length === 2, 10_000, 'the events after the restart');
    const ids = eventsOf(uuid).map((e) => e.id);
    assert.equal(new Set(ids).size, 2);
    assert.ok(!ids.includes(uuid), 'each attribute has its own id');
    // The same record sent again (a replay) gets the same ids.
    const { uuidV5 } = await import('@otel-audit/semconv');
    assert.deepEqual(ids, [uuidV5(uuid, 'attribute:a'), uuidV5(uuid, 'attribute:b')]);
    assert.equal(await second.sidecar.stop(), 0);
  });

  for (const format of ['json', 'otlp'] as const) {
    it(`format ${format}: dead-letters what NG refuses for good, retries load and outages, finds a bad record in a batch`, async () => {
      const { client, dir, sidecar: s } = await sidecar(`errors-${format}`, `    format: ${format}`, vcapEnv());
      const letters = join(dir, 'storage/dead-letter/sap_auditlog_ng.jsonl');
      for (const [status, body] of [
        [400, '{"error":"invalid event"}'],
        [403, 'Forbidden'],
        [413, '{"error":"payload too large"}'],
      ] as const) {
        server.script.push({ status, body });
        const uuid = randomUUID();
        await client.log(new SecurityEvent({ uuid, data: `refused with ${status}` }));
        await until(
          async () => (await readLines(letters)).some((l) => l['uuid'] === uuid),
          10_000,
          `dead letter ${status}`,
        );
        const letter = (await readLines(letters)).find((l) => l['uuid'] === uuid)!;
        assert.equal(letter['exporter'], 'sap_auditlog_ng');
        assert.match(String(letter['reason']), new RegExp(`^SAP Audit Log Service NG HTTP ${status}`));
      }

      server.script.push(
        { status: 429, headers: { 'Retry-After': '1' } },
        { status: 503 },
        { status: 502 },
        { status: 500 },
      );
      const retried = randomUUID();
      const t0 = Date.now();
      await client.log(new SecurityEvent({ uuid: retried, data: 'retried until delivered' }));
      await until(() => eventsOf(retried).length === 1, 15_000, 'the retried event');
      assert.ok(Date.now() - t0 >= 1000, 'Retry-After was honoured');

      // A batch with one record NG refuses: the others are delivered, that one alone is dead-lettered.
      server.delayMs = 300;
      server.poison = 'poison-pill';
      try {
        const good = Array.from({ length: 6 }, () => randomUUID());
        const bad = randomUUID();
        await Promise.all([
          ...good.slice(0, 3).map((uuid) => client.log(new SecurityEvent({ uuid, data: 'fine' }))),
          client.log(new SecurityEvent({ uuid: bad, data: 'poison-pill' })),
          ...good.slice(3).map((uuid) => client.log(new SecurityEvent({ uuid, data: 'fine' }))),
        ]);
        await until(() => good.every((u) => eventsOf(u).length === 1), 15_000, 'the good records');
        await until(async () => (await readLines(letters)).some((l) => l['uuid'] === bad), 10_000, 'the bad record');
        assert.equal(eventsOf(bad).length, 0);
      } finally {
        server.delayMs = 0;
        server.poison = undefined;
      }

      // $SUBSCRIBER without a tenant id can never be sent: a dead letter naming the fix.
      const subscriber = randomUUID();
      await client.log(new SecurityEvent({ uuid: subscriber, data: 'x', tenant: '$SUBSCRIBER', tenantSubdomain: 'a' }));
      await until(async () => (await readLines(letters)).some((l) => l['uuid'] === subscriber), 10_000, 'subscriber');
      const letter = (await readLines(letters)).find((l) => l['uuid'] === subscriber)!;
      assert.match(String(letter['reason']), /send the subscriber's tenant \(zone\) id in audit\.tenant/);
      await client.shutdown();
      assert.equal(await s.stop(), 0);
    });
  }

  it('a client without the CA-signed certificate is refused by mTLS: records wait, nothing is dead-lettered', async () => {
    const {
      client,
      dir,
      sidecar: s,
    } = await sidecar('stranger', '    format: json', {
      VCAP_SERVICES: JSON.stringify({
        'user-provided': [
          {
            label: 'user-provided',
            name: 'my-ng',
            tags: ['auditlog-ng'],
            credentials: { ...credentials(), cert: pki.strangerCert, key: pki.strangerKey, keyPassphrase: undefined },
          },
        ],
      }),
    });
    const uuid = randomUUID();
    await client.log(new SecurityEvent({ uuid, data: 'stranger' }));
    const metricsUrl = `http://${s.endpoints['telemetry']!}/metrics`;
    await until(
      async () =>
        (await (await fetch(metricsUrl)).text()).includes('otel_audit_exporter_failing{exporter="sap_auditlog_ng"} 1'),
      10_000,
      'failing metric',
    );
    assert.equal(eventsOf(uuid).length, 0);
    assert.equal((await readLines(join(dir, 'storage/dead-letter/sap_auditlog_ng.jsonl'))).length, 0);
    await client.shutdown();
    assert.equal(await s.stop(), 0);
  });

  it('binding layouts: config keys, a servicebinding.io secretKey, plain files; rotation of a mounted binding; no key in the logs', async () => {
    // In the config (keys as `${env:…}`), Java's `passphrase` spelling is not needed there: key_passphrase.
    const a = await sidecar(
      'config-binding',
      `    format: otlp
    binding: config
    url: ${server.url}
    region: eu10
    namespace: sap.otel-audit.test
    cert: \${env:NG_CERT}
    key: \${env:NG_KEY}
    key_passphrase: \${env:NG_PASSPHRASE}`,
      { NG_CERT: pki.clientCert, NG_KEY: encryptedKey, NG_PASSPHRASE: PASSPHRASE },
    );
    const ua = randomUUID();
    await a.client.log(new SecurityEvent({ uuid: ua, data: 'from config' }));
    await until(() => eventsOf(ua).length === 1, 10_000, 'config binding');

    // secretKey layout (.metadata with a container key), Java's `passphrase` spelling.
    const bindings = join(root, 'bindings-secretkey');
    await mkdir(join(bindings, 'ng'), { recursive: true });
    await writeFile(
      join(bindings, 'ng/.metadata'),
      JSON.stringify({
        metaDataProperties: [{ name: 'type', format: 'text' }],
        credentialProperties: [{ name: 'credentials', format: 'json', container: true }],
      }),
    );
    await writeFile(join(bindings, 'ng/type'), 'auditlog-ng');
    const { keyPassphrase: _k, ...javaStyle } = credentials();
    await writeFile(join(bindings, 'ng/credentials'), JSON.stringify({ ...javaStyle, passphrase: PASSPHRASE }));
    const b = await sidecar('secretkey-binding', '    format: json\n    binding: service_binding', {
      SERVICE_BINDING_ROOT: bindings,
    });
    const ub = randomUUID();
    await b.client.log(new SecurityEvent({ uuid: ub, data: 'from a secretKey binding' }));
    await until(() => eventsOf(ub).length === 1, 10_000, 'secretKey binding');

    // Plain files, first with a certificate NG does not trust, then rotated to a good one.
    const rotating = join(root, 'bindings-rotate');
    const dirB = join(rotating, 'auditlog-ng');
    await mkdir(dirB, { recursive: true });
    const writeFiles = async (cert: string, key: string, passphrase?: string) => {
      for (const [k, v] of Object.entries({
        url: server.url,
        region: 'eu10',
        namespace: 'sap.otel-audit.test',
        cert,
        key,
      }))
        await writeFile(join(dirB, k), v);
      if (passphrase === undefined) await rm(join(dirB, 'keyPassphrase'), { force: true });
      else await writeFile(join(dirB, 'keyPassphrase'), passphrase);
    };
    await writeFiles(pki.strangerCert, pki.strangerKey);
    const c = await sidecar('rotation', '    format: otlp', { SERVICE_BINDING_ROOT: rotating }, 'debug');
    const uc = randomUUID();
    await c.client.log(new SecurityEvent({ uuid: uc, data: 'during the certificate outage' }));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(eventsOf(uc).length, 0);
    await writeFiles(pki.clientCert, encryptedKey, PASSPHRASE);
    await until(() => eventsOf(uc).length === 1, 15_000, 'delivery after rotation');
    assert.match(c.sidecar.output.join('\n'), /SAP Audit Log Service NG credentials changed; using the new ones/);

    for (const x of [a, b, c]) {
      await x.client.shutdown();
      assert.equal(await x.sidecar.stop(), 0);
      const log = x.sidecar.output.join('\n');
      for (const secret of [
        PASSPHRASE,
        pki.clientKey.split('\n')[1]!,
        encryptedKey.split('\n')[1]!,
        pki.strangerKey.split('\n')[1]!,
      ])
        assert.ok(!log.includes(secret), 'a key or passphrase appears in the logs');
    }
  });

  it('starts without credentials, says where it looked, delivers once the binding appears', async () => {
    const bindings = join(root, 'bindings-late');
    await mkdir(bindings, { recursive: true });
    const { client, sidecar: s } = await sidecar('late', '    format: json', { SERVICE_BINDING_ROOT: bindings });
    const uuid = randomUUID();
    await client.log(new SecurityEvent({ uuid, data: 'before the binding exists' }));
    assert.match(
      s.output.join('\n'),
      /no SAP Audit Log Service NG credentials found; looked at: url\/cert\/key in the exporter config; bindings of type auditlog-ng under SERVICE_BINDING_ROOT=.*bindings-late; VCAP_SERVICES \(not set\)/,
    );
    await mkdir(join(bindings, 'auditlog-ng'), { recursive: true });
    for (const [k, v] of Object.entries(credentials())) await writeFile(join(bindings, 'auditlog-ng', k), v);
    await until(() => eventsOf(uuid).length === 1, 15_000, 'delivery once the binding exists');
    await client.shutdown();
    assert.equal(await s.stop(), 0);
  });
});
