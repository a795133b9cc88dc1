import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultRegistry } from '../../../src/components.js';
import { parseConfig, type ServiceConfig } from '../../../src/config/load.js';
import { ConfigError, formatProblem } from '../../../src/config/problems.js';
import { startTime } from '../../../src/receivers/sap-auditlog-retrieval/config.js';

// Tests run from dist/test/…; the fixtures stay in the source tree.
const TESTDATA = fileURLToPath(new URL('../../../../test/receivers/sap-auditlog-retrieval/testdata/', import.meta.url));

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

describe('sap_auditlog_retrieval config', () => {
  it('loads one receiver per subaccount with their settings and defaults', () => {
    const uaa = JSON.stringify({
      url: 'https://sub.authentication.eu10.hana.ondemand.com',
      clientid: 'sb-x',
      clientsecret: 's',
      xsappname: 'x',
    });
    const c = load('full.yaml', { AUDITLOG_MANAGEMENT_UAA: uaa });
    assert.deepEqual(
      c.receivers.map((r) => r.id),
      ['sap_auditlog_retrieval/eu10', 'sap_auditlog_retrieval/us10'],
    );
    assert.deepEqual(c.receivers[0]!.config, {
      binding: 'config',
      url: 'https://auditlog-management.cfapps.eu10.hana.ondemand.com',
      // The uaa object of a service key, given as JSON text, is reduced to the keys the client uses.
      uaa: { url: 'https://sub.authentication.eu10.hana.ondemand.com', clientid: 'sb-x', clientsecret: 's' },
      system_id: 'prod-eu10',
      poll_interval: '30s',
      ingest_delay: '15m',
      overlap: '10m',
      start_at: '2026-11-01T00:00:00Z',
      max_window: '30m',
      categories: ['audit.security-events', 'audit.configuration'],
      max_requests_per_second: 8,
      timeout: '60s',
      reload_interval: '30s',
      tls: { insecure_skip_verify: false },
    });
    assert.deepEqual(c.receivers[1]!.config, {
      binding: 'auto',
      binding_name: 'auditlog-management-us10',
      system_id: 'prod-us10',
      poll_interval: '60s',
      ingest_delay: '20m',
      overlap: '5m',
      start_at: '24h',
      max_window: '1h',
      categories: [],
      max_requests_per_second: 4,
      timeout: '60s',
      reload_interval: '30s',
      tls: { insecure_skip_verify: false },
    });
  });

  it('reports every mistake with its key path', () => {
    assert.deepEqual(problems('bad_values.yaml'), [
      'bad_values.yaml:8:18: receivers.sap_auditlog_retrieval/a.categories[0]: must be one of: "audit.security-events", "audit.configuration", "audit.data-access", "audit.data-modification"',
      'bad_values.yaml:9:5: receivers.sap_auditlog_retrieval/a.max_requests_per_second: must be <= 1000',
      'bad_values.yaml:10:3: receivers.sap_auditlog_retrieval/b: missing required key "system_id"',
      'bad_values.yaml:12:5: receivers.sap_auditlog_retrieval/b.poll_intervall: unknown key (did you mean "poll_interval"?)',
      'bad_values.yaml:13:5: receivers.sap_auditlog_retrieval/b.user: unknown key (known keys: binding, binding_name, url, uaa, system_id, poll_interval, ingest_delay, overlap, start_at, max_window, categories, max_requests_per_second, timeout, reload_interval, tls)',
      'bad_values.yaml:14:3: receivers.sap_auditlog_retrieval/c: binding: config needs url and uaa',
    ]);
  });

  it('checks start_at, overlap and max_window once the schema holds', () => {
    const text = readFileSync(TESTDATA + 'bad_values.yaml', 'utf8')
      .replace('[audit.security-event]', '[audit.security-events]')
      .replace('max_requests_per_second: 5000', 'max_requests_per_second: 8');
    let found: string[] = [];
    try {
      parseConfig(text, { source: 'b', registry: defaultRegistry(), baseDir: '/work' });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      found = err.problems.map((p) => `${p.path}: ${p.message}`);
    }
    for (const expected of [
      'receivers.sap_auditlog_retrieval/a.start_at: must be a duration before now (e.g. 24h, 7d) or an RFC 3339 time (e.g. 2026-11-01T00:00:00Z)',
      'receivers.sap_auditlog_retrieval/a.overlap: must be at least 1s (the API counts in whole seconds)',
      'receivers.sap_auditlog_retrieval/a.max_window: must be at least 1s',
    ]) {
      assert.ok(found.includes(expected), `${expected}\nin\n${found.join('\n')}`);
    }
  });

  it('refuses a pipeline that would send retrieved records to sap_auditlog, naming the exporter', () => {
    assert.deepEqual(problems('loop.yaml'), [
      'loop.yaml:19:25: service.pipelines.audit.exporters[1]: "sap_auditlog/eu" cannot export the records of receiver "sap_auditlog_retrieval": they were retrieved from SAP Audit Log Service and would be written back to it (use a pipeline without sap_auditlog for the retrieval)',
    ]);
  });

  it('keeps receivers that are defined but not in the pipeline (for reconcile)', () => {
    const text = readFileSync(TESTDATA + 'loop.yaml', 'utf8').replace(
      'receivers: [otlp, sap_auditlog_retrieval]',
      'receivers: [otlp]',
    );
    const c = parseConfig(text, { source: 'x', registry: defaultRegistry(), baseDir: '/work' });
    assert.deepEqual(
      c.receivers.map((r) => r.id),
      ['otlp'],
    );
    assert.deepEqual(
      c.unusedReceivers?.map((r) => r.id),
      ['sap_auditlog_retrieval'],
    );
  });

  it('takes start_at as a duration before now or an RFC 3339 time', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    assert.equal(startTime('24h', now), Date.parse('2026-11-20T10:00:00Z'));
    assert.equal(startTime('7d', now), Date.parse('2026-11-14T10:00:00Z'));
    assert.equal(startTime('90m', now), Date.parse('2026-11-21T08:30:00Z'));
    assert.equal(startTime('2026-11-01T00:00:00Z', now), Date.parse('2026-11-01T00:00:00Z'));
    assert.equal(startTime('2026-11-01T02:00:00+02:00', now), Date.parse('2026-11-01T00:00:00Z'));
    for (const bad of ['yesterday', '2026-11-01', '24', '-1h', '2026-13-01T00:00:00Z'])
      assert.equal(startTime(bad, now), undefined, bad);
  });
});
