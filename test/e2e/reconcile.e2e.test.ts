/**
 * `otel-audit reconcile`: our trail (the file exporter's JSON Lines, rotated and gzip files
 * included) against what the Retrieval API test server returns for the same window.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SIDECAR_CLI } from '../support/paths.js';
import { apiRecord, SapRetrievalServer } from '../support/sap-retrieval-server.js';
import { tempDir } from '../support/tmp.js';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIDECAR_CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A local record as the file exporter writes it (§6). */
function localLine(
  uuid: string,
  time: number,
  resource: Record<string, string> = { 'service.name': 'billing' },
): string {
  const iso = new Date(time).toISOString();
  return JSON.stringify({
    message_uuid: uuid,
    time: iso,
    category: 'audit.security-events',
    tenant: '$PROVIDER',
    user: 'john',
    format_version: '2',
    message: { uuid, user: 'john', time: iso, tenant: '$PROVIDER', data: 'login' },
    resource,
  });
}

describe('otel-audit reconcile', { timeout: 60_000 }, () => {
  let server: SapRetrievalServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let config: string;
  const now = Date.now();
  const ours = Array.from({ length: 30 }, (_, i) => ({ uuid: randomUUID(), time: now - 3_000_000 + i * 60_000 }));

  before(async () => {
    server = new SapRetrievalServer({ clientId: 'sb-rec', clientSecret: 'rec-secret', pageSize: 10 });
    await server.start();
    ({ dir, cleanup } = await tempDir('otel-audit-reconcile-'));
    const trail = join(dir, 'trail');
    await mkdir(trail);
    // Oldest in a gzip'd rotated file, the next in a plain rotated file, the rest in the active file;
    // plus a retrieved record and one outside the window, which reconcile leaves out.
    const lines = ours.map((r) => localLine(r.uuid, r.time));
    await writeFile(
      join(trail, 'audit-2026-01-01T00-00-00.000.jsonl.gz'),
      gzipSync(`${lines.slice(0, 10).join('\n')}\n`),
    );
    await writeFile(join(trail, 'audit-2026-01-02T00-00-00.000.jsonl'), `${lines.slice(10, 20).join('\n')}\n`);
    await writeFile(
      join(trail, 'audit.jsonl'),
      [
        ...lines.slice(20),
        localLine(randomUUID(), now - 60_000, { 'sap.auditlog.system_id': 'prod-eu10' }),
        localLine(randomUUID(), now - 10 * 3_600_000),
        '{"message_uuid":"torn',
      ].join('\n'),
    );
    config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
  sap_auditlog_retrieval:
    binding: config
    url: ${server.apiUrl}
    uaa: { url: ${server.uaaUrl}, clientid: sb-rec, clientsecret: rec-secret }
    system_id: prod-eu10
    ingest_delay: 0s
exporters:
  file:
    path: ${trail}/audit.jsonl
  sap_auditlog:
    url: https://api.auditlog.example:6081
    uaa: { url: https://x.authentication.example, clientid: c, clientsecret: s }
extensions:
  storage:
    directory: ${dir}/storage
service:
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file, sap_auditlog]
`,
    );
    // SAP has all but two of ours (some under upper-case ids, as SAP's examples write them), and three of its own.
    server.add(
      ours
        .slice(2)
        .map((r, i) =>
          apiRecord({ uuid: i % 2 === 0 ? r.uuid.toUpperCase() : r.uuid, time: r.time, messageAs: 'string' }),
        ),
    );
    server.add([0, 1, 2].map((i) => apiRecord({ time: now - 1_000_000 - i * 1000 })));
  });

  after(async () => {
    await server.stop();
    await cleanup();
  });

  it('lists the records missing at SAP and those unknown to us, and exits 1', async () => {
    const r = await cli(['reconcile', '--config', config, '--since', '2h']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stdout;
    assert.match(out, /^reconcile sap_auditlog with sap_auditlog_retrieval: /);
    assert.match(out, /ours: 30 records in 3 files .*\(1 lines not JSON\)/);
    assert.match(out, /SAP: 31 records in 4 pages/);
    assert.match(out, /missing at SAP: 2\n/);
    for (const m of ours.slice(0, 2)) assert.ok(out.includes(`  ${m.uuid} ${new Date(m.time).toISOString()}`), m.uuid);
    assert.match(out, /unknown to us: 3\n/);
    for (const m of ours.slice(2)) assert.ok(!out.includes(m.uuid) && !out.includes(m.uuid.toUpperCase()));
  });

  it('exits 0 once SAP has every record of ours', async () => {
    server.add(ours.slice(0, 2).map((r) => apiRecord({ uuid: r.uuid, time: r.time })));
    const r = await cli(['reconcile', '--config', config, '--since', new Date(now - 7_200_000).toISOString()]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /missing at SAP: 0\n/);
  });

  it('says what is missing from the config', async () => {
    const bad = join(dir, 'no-retrieval.yaml');
    await writeFile(
      bad,
      `receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\nexporters:\n  file:\n    path: ./a.jsonl\n  sap_auditlog:\n    url: https://api.example\n    uaa: { url: https://u.example, clientid: c, clientsecret: s }\nservice:\n  pipelines:\n    audit:\n      receivers: [otlp]\n      exporters: [file, sap_auditlog]\n`,
    );
    const r = await cli(['reconcile', '--config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /defines no sap_auditlog_retrieval receiver/);
    const usage = await cli(['reconcile']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /reconcile needs --config FILE/);
    const misplaced = await cli(['validate', '--config', bad, '--since', '1h']);
    assert.equal(misplaced.code, 2);
    assert.match(misplaced.stderr, /--since is an option of reconcile/);
  });
});
