import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { COLLECTOR_CONFIG_DIR, REPO_ROOT, SIDECAR_CLI } from '../support/paths.js';
import { tempDir } from '../support/tmp.js';

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [SIDECAR_CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TESTDATA = join(REPO_ROOT, 'packages/sidecar/test/config/testdata');

describe('otel-audit CLI', () => {
  it('validate accepts every config in collector-config/', () => {
    // Only the files at the top: collector-config/otelcol/ holds OpenTelemetry Collector configs,
    // which are not otel-audit configs (test/helm/collector-config.test.ts checks them).
    const files = readdirSync(COLLECTOR_CONFIG_DIR, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.yaml'))
      .map((e) => e.name);
    assert.ok(files.includes('default.yaml'));
    assert.ok(files.includes('all-exporters.yaml'));
    for (const f of files) {
      const r = cli(['validate', '--config', join(COLLECTOR_CONFIG_DIR, f)], {
        SPLUNK_HEC_TOKEN: 't',
        SPLUNK_HEC_ENDPOINT: 'https://splunk.example:8088',
        OTEL_AUDIT_AUTH_TOKEN: 't',
        SAP_SYSTEM_ID: 'prod-eu10',
      });
      assert.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /valid \(pipeline audit: /);
    }
  });

  it('validate prints each problem with its key path and line, and exits 1', () => {
    const file = join(TESTDATA, 'bad_values.yaml');
    const r = cli(['validate', '--config', file]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.at(-1), '7 problems found');
    assert.ok(lines.some((l) => l === `${file}:10:7: exporters.file.rotation.max_megabytes: must be >= 0`));
    assert.ok(
      lines.some(
        (l) =>
          l ===
          `${file}:5:9: receivers.otlp.protocols.http.endpoint: must be host:port (e.g. 127.0.0.1:4318 or [::1]:4318)`,
      ),
    );
  });

  it('validate reports a missing file and a missing --config', () => {
    const r = cli(['validate', '--config', '/nonexistent/otel-audit.yaml']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\/nonexistent\/otel-audit\.yaml: \(file\): cannot read: ENOENT/);
    assert.equal(cli(['validate']).code, 2);
  });

  it('shows help and rejects unknown commands', () => {
    const help = cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /otel-audit <command>/);
    const unknown = cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command: frobnicate/);
    assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
    const misplaced = cli(['run', '--dry-run']);
    assert.equal(misplaced.code, 2);
    assert.match(misplaced.stderr, /--dry-run is an option of replay, not of run/);
  });

  it('run exits non-zero with a clear message when its port is taken', async (t) => {
    const defer = cleanupAfter(t);
    const blocker = createServer();
    defer(() => blocker.close());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:${port}\nexporters:\n  file:\n    path: ${dir}/a.jsonl\nextensions:\n  storage:\n    directory: ${dir}/spool\nservice:\n  pipelines:\n    audit:\n      receivers: [otlp]\n      exporters: [file]\n`,
    );
    const r = cli(['run', '--config', config]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /"msg":"otel-audit failed to start"/);
    assert.match(r.stdout, /EADDRINUSE/);
  });

  it('run refuses an invalid config with exit code 2', () => {
    const r = cli(['run', '--config', join(TESTDATA, 'typo_key.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /receivers\.otlp\.protocols\.http\.endpont: unknown key \(did you mean "endpoint"\?\)/);
  });
});
