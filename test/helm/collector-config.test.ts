// collector-config/otelcol/otelcol-gateway.yaml is an OpenTelemetry Collector config (no Collector
// can run here), so its structure is checked: every referenced component is defined, audit records
// (EventName audit.*) are routed to otel-audit on a path that cannot acknowledge before otel-audit
// does, and everything else goes to the default pipeline. The otel-audit configs next to it are
// validated by the CLI in test/e2e/cli.e2e.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { COLLECTOR_CONFIG_DIR } from '../support/paths.js';

type Component = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Pipeline {
  receivers: string[];
  processors?: string[];
  exporters: string[];
}
interface CollectorConfig {
  extensions?: Record<string, Component>;
  receivers: Record<string, Component>;
  processors?: Record<string, Component>;
  connectors?: Record<string, Component>;
  exporters: Record<string, Component>;
  service: { extensions?: string[]; pipelines: Record<string, Pipeline> };
}

const FILE = join(COLLECTOR_CONFIG_DIR, 'otelcol/otelcol-gateway.yaml');
const text = readFileSync(FILE, 'utf8');
const config = parse(text) as CollectorConfig;
const type = (id: string) => id.split('/', 1)[0]!;

/** Processors that change records; none of them may touch audit records. */
const MUTATING = [
  'batch',
  'transform',
  'attributes',
  'resource',
  'redaction',
  'k8sattributes',
  'filter',
  'groupbyattrs',
  'logdedup',
  'resourcedetection',
];

describe('collector-config/otelcol/otelcol-gateway.yaml', () => {
  const pipelines = config.service.pipelines;
  const routers = Object.entries(config.connectors ?? {}).filter(([id]) => type(id) === 'routing');

  it('references only components it defines, and uses every connector on both sides', () => {
    for (const [name, p] of Object.entries(pipelines)) {
      assert.equal(type(name), 'logs', `${name}: only logs pipelines`);
      for (const r of p.receivers) assert.ok(r in config.receivers || r in (config.connectors ?? {}), `${name}: ${r}`);
      for (const x of p.processors ?? []) assert.ok(x in (config.processors ?? {}), `${name}: ${x}`);
      for (const e of p.exporters) assert.ok(e in config.exporters || e in (config.connectors ?? {}), `${name}: ${e}`);
    }
    for (const id of Object.keys(config.connectors ?? {})) {
      assert.ok(
        Object.values(pipelines).some((p) => p.exporters.includes(id)),
        `${id} is fed by a pipeline`,
      );
      assert.ok(
        Object.values(pipelines).some((p) => p.receivers.includes(id)),
        `${id} feeds a pipeline`,
      );
    }
    for (const e of config.service.extensions ?? []) assert.ok(e in (config.extensions ?? {}));
  });

  it('routes EventName audit.* with the routing connector in the log context, the rest by default', () => {
    assert.equal(routers.length, 1);
    const [id, routing] = routers[0]!;
    const table = routing['table'] as Component[];
    assert.equal(table.length, 1);
    const route = table[0]!;
    assert.equal(route['context'], 'log');
    assert.match(route['condition'] as string, /IsMatch\(log\.event_name, "\^audit\\\\\."\)/);
    assert.match(route['condition'] as string, /log\.attributes\["event\.name"\]/);
    assert.ok(!('match_once' in routing), 'match_once was removed from the routing connector (v0.120.0)');
    const [audit] = route['pipelines'] as string[];
    const [fallback] = routing['default_pipelines'] as string[];
    assert.ok(audit && pipelines[audit]?.receivers.includes(id));
    assert.ok(fallback && pipelines[fallback]?.receivers.includes(id));
    assert.notEqual(audit, fallback);
    // The routing condition as OTTL receives it (YAML single quotes keep the backslashes).
    assert.ok((route['condition'] as string).includes('"^audit\\\\."'));
  });

  it('sends audit records to otel-audit without batching, queueing, giving up or mutating them', () => {
    const route = routers[0]![1]['table'][0] as Component;
    const audit = pipelines[(route['pipelines'] as string[])[0]!]!;
    for (const p of audit.processors ?? []) assert.ok(!MUTATING.includes(type(p)), `${p} on the audit path`);
    // Nothing before the router may batch or mutate either.
    for (const p of Object.values(pipelines).filter((x) => x.exporters.includes(routers[0]![0]))) {
      for (const x of p.processors ?? []) assert.ok(!MUTATING.includes(type(x)), `${x} before the router`);
    }
    assert.equal(audit.exporters.length, 1);
    const exporter = config.exporters[audit.exporters[0]!]!;
    assert.equal(type(audit.exporters[0]!), 'otlp');
    assert.equal(exporter['sending_queue']?.enabled, false);
    assert.equal(exporter['retry_on_failure']?.enabled, true);
    assert.ok([0, '0', '0s'].includes(exporter['retry_on_failure']?.max_elapsed_time), 'retry without a time limit');
    assert.match(exporter['headers']?.authorization as string, /^Bearer \$\{env:OTEL_AUDIT_TOKEN\}$/);
    assert.ok(exporter['tls']?.ca_file, 'TLS to the gateway');
    assert.notEqual(exporter['tls']?.insecure, true);
  });

  it('batches only the default path', () => {
    const batching = Object.entries(pipelines).filter(([, p]) => (p.processors ?? []).some((x) => type(x) === 'batch'));
    const fallback = (routers[0]![1]['default_pipelines'] as string[])[0];
    assert.deepEqual(
      batching.map(([name]) => name),
      [fallback],
    );
  });

  it('documents every environment variable it uses', () => {
    const header = text.slice(0, text.indexOf('\nextensions:'));
    for (const m of text.matchAll(/\$\{env:([A-Z_][A-Z0-9_]*)/g)) {
      assert.match(header, new RegExp(`^#\\s+${m[1]!}\\s`, 'm'), `${m[1]!} is described in the header`);
    }
  });

  it('explains why the audit path has no batch processor and no mutating processors', () => {
    assert.match(text, /No batch processor and no sending_queue on the audit path/);
    assert.match(text, /No mutating processors/);
  });
});
