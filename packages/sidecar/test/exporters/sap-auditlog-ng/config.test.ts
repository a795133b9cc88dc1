import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultRegistry } from '../../../src/components.js';
import { parseConfig, type ServiceConfig } from '../../../src/config/load.js';
import { ConfigError, formatProblem } from '../../../src/config/problems.js';

// Tests run from dist/test/…; the fixtures stay in the source tree.
const TESTDATA = fileURLToPath(new URL('../../../../test/exporters/sap-auditlog-ng/testdata/', import.meta.url));
const T = { timeout: 5_000 };

function load(name: string, env: Record<string, string> = {}): ServiceConfig {
  return parseConfig(readFileSync(TESTDATA + name, 'utf8'), {
    source: name,
    registry: defaultRegistry(),
    env,
    baseDir: '/work',
  });
}

function problems(name: string): string[] {
  try {
    load(name);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map((p) => formatProblem(name, p));
  }
  assert.fail(`${name} was accepted`);
}

const DELIVERY = {
  sending_queue: { num_consumers: 2, batch_size: 512 },
  retry_on_failure: { initial_interval: '1s', max_interval: '30s', multiplier: 1.5, randomization_factor: 0.5 },
};

describe('sap_auditlog_ng config', () => {
  it('applies the defaults (gzip for otlp, none for json) and takes the binding keys from the config', T, () => {
    const c = load('full.yaml', { NG_CERT: '-----BEGIN CERTIFICATE-----', NG_KEY: 'k', NG_PASSPHRASE: 'p' });
    assert.deepEqual(
      c.exporters.map((e) => e.id),
      ['sap_auditlog_ng', 'sap_auditlog_ng/json'],
    );
    const common = {
      logs_path: '/v1/logs',
      service_name: 'otel-audit',
      schema_url:
        'https://github.tools.sap/wg-observability/telemetry-semantic-conventions/blob/audit_event_catalog_v2.1.2/payload-specifications/audit-logging/sap/auditlog/auditevent/v2/auditevent.proto',
      max_concurrency: 4,
      reload_interval: '30s',
      tls: { insecure_skip_verify: false },
      ...DELIVERY,
    };
    assert.deepEqual(c.exporters[0]!.config, {
      binding: 'auto',
      format: 'otlp',
      compression: 'gzip',
      timeout: '30s',
      max_request_size: '4MiB',
      ...common,
    });
    assert.deepEqual(c.exporters[1]!.config, {
      binding: 'config',
      url: 'https://ingestion.example.test',
      region: 'eu10',
      namespace: 'sap.billing',
      cert: '-----BEGIN CERTIFICATE-----',
      key: 'k',
      key_passphrase: 'p',
      tenant_id: 'b7f4c1a2-0d3e-4f5a-8b6c-7d8e9f0a1b2c',
      app_id: 'billing',
      format: 'json',
      compression: 'none',
      timeout: '10s',
      max_request_size: '1MiB',
      ...common,
    });
  });

  it('reports every mistake with its key path', T, () => {
    assert.deepEqual(problems('bad_values.yaml'), [
      'bad_values.yaml:7:5: exporters.sap_auditlog_ng/a.format: must be one of: "otlp", "json"',
      'bad_values.yaml:8:5: exporters.sap_auditlog_ng/a.tenant_id: must match ^[a-zA-Z0-9._/~-]+$',
      'bad_values.yaml:13:5: exporters.sap_auditlog_ng/b.passphrase: unknown key (known keys: binding, binding_name, url, region, namespace, cert, key, key_passphrase, format, endpoint, logs_path, tenant_id, app_id, service_name, deployment_id, schema_url, compression, timeout, max_concurrency, max_request_size, reload_interval, tls, sending_queue, retry_on_failure)',
    ]);
  });

  it('says which binding keys are missing and that endpoint is for otlp', T, () => {
    const found = problems('bad_binding.yaml');
    assert.deepEqual(
      found.map((p) => p.replace(/^bad_binding\.yaml:\d+:\d+: /, '')),
      [
        'exporters.sap_auditlog_ng/a: binding: config needs url, region, namespace, cert and key',
        'exporters.sap_auditlog_ng/b: give region, namespace, cert, key with url',
        'exporters.sap_auditlog_ng/b.endpoint: endpoint is for format: otlp (format json posts to url)',
      ],
    );
  });

  it('refuses a pipeline that would send records retrieved from SAP to NG', T, () => {
    const found = problems('retrieved.yaml');
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0]!, /sap_auditlog_ng.*retrieved from SAP Audit Log Service and would be written back/);
  });
});
