import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveExporterSettings } from '../src/config.js';

describe('exporter settings from options and OTEL_EXPORTER_OTLP_* variables', () => {
  it('defaults to OTLP/HTTP protobuf on loopback', () => {
    const s = resolveExporterSettings({}, {});
    assert.equal(s.protocol, 'http/protobuf');
    assert.equal(s.url, 'http://127.0.0.1:4318/v1/logs');
    assert.equal(s.timeoutMillis, 10000);
    assert.equal(s.compression, 'none');
  });

  it('uses the gRPC default port for grpc', () => {
    assert.equal(resolveExporterSettings({ protocol: 'grpc' }, {}).url, 'http://127.0.0.1:4317');
  });

  it('appends /v1/logs to OTEL_EXPORTER_OTLP_ENDPOINT and uses the logs endpoint as is', () => {
    assert.equal(
      resolveExporterSettings({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://sidecar:4318/' }).url,
      'http://sidecar:4318/v1/logs',
    );
    assert.equal(
      resolveExporterSettings({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gw/otlp' }).url,
      'http://gw/otlp/v1/logs',
    );
    assert.equal(
      resolveExporterSettings(
        {},
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:1', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://sidecar:4318/custom' },
      ).url,
      'http://sidecar:4318/custom',
    );
  });

  it('reads protocol, headers, timeout and compression, logs-specific variables first', () => {
    const s = resolveExporterSettings(
      {},
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-a=1',
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-a=2',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      },
    );
    assert.equal(s.protocol, 'http/json');
    assert.deepEqual(s.headers, { authorization: 'Bearer abc', 'x-a': '2' });
    assert.equal(s.timeoutMillis, 2500);
    assert.equal(s.compression, 'gzip');
  });

  it('lets options win over the environment', () => {
    const s = resolveExporterSettings(
      { protocol: 'http/json', endpoint: 'http://127.0.0.1:9999', headers: { 'x-a': '3' } },
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1,x-b=2' },
    );
    assert.equal(s.url, 'http://127.0.0.1:9999/v1/logs');
    assert.deepEqual(s.headers, { 'x-a': '3', 'x-b': '2' });
  });

  it('rejects an unknown protocol', () => {
    assert.throws(
      () => resolveExporterSettings({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/thrift' }),
      /unsupported OTLP protocol/,
    );
  });
});
