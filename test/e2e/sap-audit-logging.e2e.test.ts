/**
 * `@otel-audit/sap-audit-logging` end to end: the README examples of `@sap/audit-logging` run
 * unchanged against the original (straight to the SAP test server) and against the drop-in
 * installed under the old name (→ a real sidecar child process → `sap_auditlog` → the same test
 * server); then what an application sees when the sidecar rejects a record, is down, or comes up late.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sapAuditLogging, { type AuditLogV2 } from '@otel-audit/sap-audit-logging';
import middleware from '@otel-audit/sap-audit-logging/middleware';
import { AuditDeliveryError, AuditValidationError } from '@otel-audit/sdk';
import { cleanupAfter } from '../support/cleanup.js';
import { DNS_SHIM } from '../support/paths.js';
import {
  appWithAuditLogging,
  DROP_IN_PACKAGE,
  ORIGINAL_PACKAGE,
  runInApp,
} from '../support/sap-audit-logging-alias.js';
import { SapAuditLogServer, type StoredMessage } from '../support/sap-auditlog-server.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { createTestPki, type TestPki } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/wait.js';

const README_EXAMPLES = fileURLToPath(new URL('./sap-audit-logging-readme.cjs', import.meta.url));
const CLIENT_ID = 'sb-shim-test!b1|auditlog!b2';
const CLIENT_SECRET = 'shim-secret-8Jq';
const VCAP_APPLICATION = JSON.stringify({
  organization_name: 'my-org',
  space_name: 'dev',
  application_name: 'students',
});
/** The sidecar's `limits.max_attribute_value_length`: a longer security message is rejected by it. */
const MAX_VALUE = 2048;
const V4_UPPER = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

function sidecarConfig(server: SapAuditLogServer, pki: TestPki, port = 0): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
    limits:
      max_attribute_value_length: ${MAX_VALUE}
exporters:
  sap_auditlog:
    url: ${server.apiUrl}
    uaa:
      url: ${server.uaaUrl()}
      clientid: "${CLIENT_ID}"
      clientsecret: "${CLIENT_SECRET}"
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
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [sap_auditlog]
`;
}

/**
 * A message as the test compares it: without `uuid` (new on every call, and a different form in
 * each package) and with `time` only where `at()` set it. Keys are sorted: the original sends
 * them in the order of the builder calls, the sidecar in SAP's documented field order, and JSON
 * objects do not have an order.
 */
function comparable(m: StoredMessage): string {
  const { uuid: _uuid, ...rest } = m.body;
  const time = rest['time'] as string;
  if (!time.startsWith('1970-')) rest['time'] = 'now';
  return JSON.stringify({ endpoint: m.endpoint, path: m.path, zone: m.zone, body: sortKeys(rest) });
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('@otel-audit/sap-audit-logging end to end', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let server: SapAuditLogServer;
  let root: string;
  let sidecar: SidecarProcess;
  let endpoint: string;
  const defer = cleanupAfter();

  before(async () => {
    const tmp = await tempDir('otel-audit-shim-');
    root = tmp.dir;
    defer(tmp.cleanup);
    pki = createTestPki(join(root, 'pki'));
    server = new SapAuditLogServer(pki, {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      providerZone: 'provider',
      subscriberZones: ['customer-a'],
    });
    await server.start();
    defer(() => server.stop());
    const dir = join(root, 'sidecar');
    await mkdir(dir);
    sidecar = await startSidecar({
      dir,
      config: sidecarConfig(server, pki),
      env: { VCAP_APPLICATION },
      nodeArgs: ['--import', DNS_SHIM],
    });
    defer(() => sidecar.kill());
    endpoint = `http://${sidecar.endpoints['otlp/http']!}`;
    defer(() => sapAuditLogging.shutdown());
  });

  /** The audit log binding, as @sap/xsenv hands it to the application. */
  function binding(): object {
    return {
      url: server.apiUrl,
      uaa: {
        url: server.uaaUrl(),
        uaadomain: `uaa.auditlog.test:${server.uaaPort}`,
        clientid: CLIENT_ID,
        clientsecret: CLIENT_SECRET,
      },
    };
  }

  it('runs the README examples unchanged: the same SAP bodies through the original and through the drop-in', async () => {
    const env = { AUDITLOG_CREDENTIALS: JSON.stringify(binding()), VCAP_APPLICATION };
    const original = await appWithAuditLogging(join(root, 'app-original'), ORIGINAL_PACKAGE);
    const before = server.messages.length;
    const theirs = await runInApp(original, README_EXAMPLES, {
      env: { ...env, NODE_EXTRA_CA_CERTS: pki.caFile },
      nodeArgs: ['--import', DNS_SHIM],
    });
    assert.equal(theirs.code, 0, theirs.stderr);
    const sentByOriginal = server.messages.slice(before);

    // The same script and credentials; the package under the old name is the drop-in, and the
    // only new setting is where the sidecar is (the standard OpenTelemetry variable).
    const dropIn = await appWithAuditLogging(join(root, 'app-drop-in'), DROP_IN_PACKAGE);
    const mid = server.messages.length;
    const ours = await runInApp(dropIn, README_EXAMPLES, { env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
    assert.equal(ours.code, 0, ours.stderr);
    await until(() => server.messages.length - mid >= sentByOriginal.length, 15_000, 'the drop-in’s messages at SAP');
    const sentByDropIn = server.messages.slice(mid);

    assert.equal(sentByOriginal.length, 13);
    assert.equal(sentByDropIn.length, sentByOriginal.length);
    // The sidecar may deliver in another order than the calls: compare as multisets.
    assert.deepEqual(sentByDropIn.map(comparable).sort(), sentByOriginal.map(comparable).sort());
    // The same XS_AUDIT_* headers (from VCAP_APPLICATION: the application's, the sidecar's).
    for (const m of [...sentByOriginal, ...sentByDropIn]) {
      assert.deepEqual(
        [m.headers['xs_audit_org'], m.headers['xs_audit_space'], m.headers['xs_audit_app']],
        ['my-org', 'dev', 'students'],
      );
    }
    // The uuids: 32 upper-case hex digits from the original, an upper-case v4 UUID from the drop-in.
    for (const m of sentByOriginal) assert.match(m.body['uuid'] as string, /^[0-9A-F]{32}$/);
    for (const m of sentByDropIn) assert.match(m.body['uuid'] as string, V4_UPPER);
    // Prepare and success (or failure) are separate messages with their own uuids in both.
    assert.equal(new Set(sentByDropIn.map((m) => m.body['uuid'])).size, sentByDropIn.length);

    // What log*() gave the application: SAP's message id from the original, the message's uuid
    // (resolved once the sidecar had it on disk) from the drop-in.
    const theirIds = JSON.parse(theirs.stdout) as unknown[];
    const ourIds = JSON.parse(ours.stdout) as string[];
    assert.equal(theirIds.length, 13);
    assert.equal(ourIds.length, 13);
    const delivered = new Set(sentByDropIn.map((m) => m.body['uuid']));
    for (const id of ourIds) assert.ok(delivered.has(id), `${id} was delivered`);
  });

  it('resolves log() with the uuid once the sidecar has the record, and calls back with it', async () => {
    const auditLog = await sapAuditLogging.v2({ ...binding(), otelAudit: { endpoint } });
    const id = await auditLog.securityMessage('promise %s', 'form').by('$USER').tenant('$PROVIDER').log();
    assert.match(id!, V4_UPPER);
    const viaCallback = await new Promise<string | undefined>((resolve, reject) => {
      const returned = auditLog
        .securityMessage('callback form')
        .by('$USER')
        .tenant('$PROVIDER')
        .log((err, uuid) => (err ? reject(err) : resolve(uuid)));
      assert.equal(returned, undefined, 'with a callback, log() returns nothing, as the original');
    });
    assert.match(viaCallback!, V4_UPPER);
    await until(
      () => [id, viaCallback].every((u) => server.messages.some((m) => m.body['uuid'] === u)),
      10_000,
      'both messages at SAP',
    );
  });

  it('the documented differences: $PROVIDER without tenant(), only SAP’s fields sent', async () => {
    const auditLog = await sapAuditLogging.v2({ otelAudit: { endpoint } }, { getGrantType: () => 'user_token' });
    const update = await auditLog
      .update({ type: 'account', id: { id: '7' } })
      // The v1-style `successful` is not a field of SAP's data modification attributes.
      .attribute({ name: 'password', successful: false } as { name: string })
      .dataSubject({ type: 'customer', id: { id: '7' } })
      .by('jane')
      .at(42)
      .logSuccess();
    const read = await auditLog
      .read({ type: 'account', id: { id: '7' } })
      .attribute({ name: 'iban' })
      .attachment({ id: 'statement-1', name: 'statement.pdf', content: 'bytes' } as { id: string; name: string })
      .dataSubject({ type: 'customer', id: { id: '7' } })
      .by('jane')
      .at(42)
      .log();
    await until(
      () => [update, read].every((u) => server.messages.some((m) => m.body['uuid'] === u)),
      10_000,
      'both messages at SAP',
    );
    const body = (uuid: string | undefined) => server.messages.find((m) => m.body['uuid'] === uuid)!.body;
    assert.deepEqual(body(update), {
      uuid: update,
      user: 'jane',
      time: '1970-01-01T00:00:00.042Z',
      tenant: '$PROVIDER',
      attributes: [{ name: 'password' }],
      object: { type: 'account', id: { id: '7' } },
      data_subject: { type: 'customer', id: { id: '7' } },
      success: true,
    });
    assert.deepEqual(body(read)['attachments'], [{ id: 'statement-1', name: 'statement.pdf' }]);
    assert.equal(body(read)['tenant'], '$PROVIDER');
  });

  it('a record the sidecar rejects: the promise rejects, the callback gets the error', async () => {
    const auditLog = await sapAuditLogging.v2({ ...binding(), otelAudit: { endpoint } });
    const tooLong = 'x'.repeat(MAX_VALUE + 1);
    const message = () => auditLog.securityMessage(tooLong).by('$USER').tenant('$PROVIDER');
    await assert.rejects(message().log(), (err: unknown) => {
      assert.ok(err instanceof AuditDeliveryError, String(err));
      assert.equal(err.rejected, true);
      assert.match(err.message, /the sidecar rejected audit record [0-9A-F-]{36}: .*at most 2048 are accepted/);
      return true;
    });
    const viaCallback = await new Promise<Error | null>((resolve) => message().log((err) => resolve(err)));
    assert.ok(viaCallback instanceof AuditDeliveryError);
    assert.equal(viaCallback.rejected, true);
  });

  it('input the original would have sent but SAP’s rules forbid: rejected before sending, naming the field', async () => {
    const auditLog = await sapAuditLogging.v2({ otelAudit: { endpoint } });
    // The original checks only for a non-empty string; the sidecar requires an IP address.
    const message = () => auditLog.securityMessage('login').externalIP('localhost').by('$USER').tenant('$PROVIDER');
    await assert.rejects(message().log(), (err: unknown) => {
      assert.ok(err instanceof AuditValidationError, String(err));
      assert.equal(err.field, 'ip');
      return true;
    });
    const viaCallback = await new Promise<Error | null>((resolve) => message().log((err) => resolve(err)));
    assert.ok(viaCallback instanceof AuditValidationError);
  });

  it('a sidecar that is down: log() fails when its deadline passes, with the error, nothing silently lost', async () => {
    const port = await freePort();
    const auditLog = await sapAuditLogging.v2({
      otelAudit: { endpoint: `http://127.0.0.1:${port}`, logTimeoutMillis: 600 },
    });
    const started = Date.now();
    await assert.rejects(
      auditLog.securityMessage('nobody listens').by('$USER').tenant('$PROVIDER').log(),
      (err: unknown) => {
        assert.ok(err instanceof AuditDeliveryError, String(err));
        assert.equal(err.rejected, false);
        assert.match(err.message, /not accepted within 600 ms .*ECONNREFUSED/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5_000);
    const viaCallback = await new Promise<Error | null>((resolve) =>
      auditLog
        .update({ type: 'account', id: { id: '1' } })
        .attribute({ name: 'email', old: 'a@example.com', new: 'b@example.com' })
        .dataSubject({ type: 'customer', id: { id: '1' } })
        .by('$USER')
        .logPrepare((err) => resolve(err)),
    );
    assert.ok(viaCallback instanceof AuditDeliveryError);
  });

  it('a sidecar that comes up within the deadline: log() waits for it and resolves', async () => {
    const port = await freePort();
    const auditLog = await sapAuditLogging.v2({
      otelAudit: { endpoint: `http://127.0.0.1:${port}`, logTimeoutMillis: 20_000 },
    });
    const logged = auditLog.securityMessage('sidecar restarting').by('$USER').tenant('$PROVIDER').log();
    await new Promise((r) => setTimeout(r, 300));
    const dir = join(root, 'late-sidecar');
    await mkdir(dir);
    const late = await startSidecar({
      dir,
      config: sidecarConfig(server, pki, port),
      nodeArgs: ['--import', DNS_SHIM],
    });
    defer(() => late.kill());
    const id = await logged;
    await until(() => server.messages.some((m) => m.body['uuid'] === id), 10_000, 'the message at SAP');
  });

  it('the middleware puts a working logger on req.auditLog', async () => {
    const req: { authInfo?: object; auditLog?: AuditLogV2 } = { authInfo: { getGrantType: () => 'user_token' } };
    const err = await new Promise<unknown>((resolve) =>
      middleware({ ...binding(), otelAudit: { endpoint } }, 2)(req, {}, resolve),
    );
    assert.equal(err, undefined);
    const id = await req.auditLog!.securityMessage('via middleware').by('$USER').tenant('$PROVIDER').log();
    await until(() => server.messages.some((m) => m.body['uuid'] === id), 10_000, 'the message at SAP');
  });
});
