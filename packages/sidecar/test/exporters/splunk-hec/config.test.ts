import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRegistry } from '../../../src/components.js';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/problems.js';
import type { SplunkHecConfig } from '../../../src/exporters/splunk-hec/config.js';
import { hecUrls } from '../../../src/exporters/splunk-hec/hec-exporter.js';

function yaml(exporter: string): string {
  return `receivers:
  otlp:
    protocols:
      http:
exporters:
  splunk_hec:
${exporter
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
service:
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [splunk_hec]
`;
}

function parse(exporter: string, env: Record<string, string> = {}) {
  return parseConfig(yaml(exporter), { source: 'test.yaml', registry: defaultRegistry(), env });
}

function problems(exporter: string): string[] {
  try {
    parse(exporter);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('splunk_hec config', () => {
  it('applies the defaults', () => {
    const config = parse('endpoint: https://splunk.example:8088\ntoken: ${env:SPLUNK_HEC_TOKEN}', {
      SPLUNK_HEC_TOKEN: '00000000-0000-0000-0000-000000000001',
    }).exporters[0]!.config as SplunkHecConfig;
    assert.deepEqual(config, {
      endpoint: 'https://splunk.example:8088',
      token: '00000000-0000-0000-0000-000000000001',
      fields: [],
      disable_compression: false,
      compression_level: 1,
      max_content_length: '1MiB',
      timeout: '10s',
      max_concurrency: 16,
      health_check_enabled: true,
      ack: false,
      ack_timeout: '60s',
      ack_poll_interval: '1s',
      reload_interval: '30s',
      tls: { insecure_skip_verify: false },
      sending_queue: { num_consumers: 16, batch_size: 4096 },
      retry_on_failure: { initial_interval: '1s', max_interval: '30s', multiplier: 1.5, randomization_factor: 0.5 },
    });
  });

  it('accepts a full config', () => {
    assert.deepEqual(
      problems(`
endpoint: https://splunk.example:8088/services/collector
token: abc
index: audit
source: otel-audit
sourcetype: otel:audit
host: node-1
fields: [category, tenant, user, event_name, success, resource.service.name, message.ip]
disable_compression: true
compression_level: 1
max_content_length: 512KiB
timeout: 5s
max_concurrency: 4
health_check_enabled: false
ack: true
ack_timeout: 2m
ack_poll_interval: 500ms
tls: { ca_file: /etc/ca.pem, cert_file: /etc/client.pem, key_file: /etc/client.key }
sending_queue: { num_consumers: 32, batch_size: 8192 }`),
      [],
    );
  });

  it('reports each mistake with its path', () => {
    assert.deepEqual(problems('endpoint: https://splunk:8088'), [
      'exporters.splunk_hec.token: missing: give the HEC token as token (e.g. ${env:SPLUNK_HEC_TOKEN}) or token_file',
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken: t\ntoken_file: /run/hec/token'), [
      'exporters.splunk_hec.token: give token or token_file, not both',
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken_file: /run/hec/token\nreload_interval: 10s'), []);
    assert.deepEqual(problems('endpoint: splunk:8088\ntoken: t'), [
      'exporters.splunk_hec.endpoint: must match ^https?://[^/?#\\s]+(/[^?#\\s]*)?$',
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken: t\nindx: audit'), [
      'exporters.splunk_hec.indx: unknown key (did you mean "index"?)',
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken: t\ntls: { cert_file: /c.pem }'), [
      'exporters.splunk_hec.tls: give cert_file and key_file together (a client certificate)',
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken: t\nfields: [tenant, resource]'), [
      'exporters.splunk_hec.fields[1]: unknown field "resource": use event_name, message_uuid, time, category, tenant, user, format_version, success, resource.<attribute> or message.<path>',
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken: t\nmax_content_length: 100'), [
      "exporters.splunk_hec.max_content_length: must be between 1KiB and 838860800 bytes (HEC's own limit)",
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken: t\nack_timeout: soon'), [
      'exporters.splunk_hec.ack_timeout: must be a duration such as 500ms, 5s, 2m or 1h',
    ]);
    assert.deepEqual(problems('endpoint: https://splunk:8088\ntoken: ""'), [
      'exporters.splunk_hec.token: must NOT have fewer than 1 characters',
    ]);
  });

  it('derives the HEC URLs from the endpoint', () => {
    for (const endpoint of [
      'https://splunk:8088',
      'https://splunk:8088/',
      'https://splunk:8088/services/collector',
      'https://splunk:8088/services/collector/event',
      'https://splunk:8088/services/collector/event/1.0/',
    ]) {
      const u = hecUrls(endpoint);
      assert.equal(u.event.href, 'https://splunk:8088/services/collector/event', endpoint);
      assert.equal(u.ack.href, 'https://splunk:8088/services/collector/ack');
      assert.equal(u.health.href, 'https://splunk:8088/services/collector/health');
    }
    const proxied = hecUrls('https://user:pw@gw.example/splunk/services/collector');
    assert.equal(proxied.event.href, 'https://gw.example/splunk/services/collector/event');
    assert.equal(proxied.display, 'https://gw.example/splunk', 'no credentials in what is logged');
  });
});
