// helm/otel-audit/values.schema.json and the chart's own checks: good values pass, each kind of
// mistake (wrong type, unknown key, missing required value, values that do not fit together) is
// rejected with a message naming it. Helm validates the coalesced values (chart defaults with the
// user's files over them, a null deleting a default), which the renderer prints with -show-values.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { tempDir } from '../support/tmp.js';
import { CHART_DIR, CI_VALUES_DIR, EXAMPLE_CHART_DIR, render, renderOk } from './render.js';

const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as object;
const validate: ValidateFunction = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
const BASE = join(CI_VALUES_DIR, 'gateway-file-values.yaml');

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let counter = 0;
before(async () => ({ dir, cleanup } = await tempDir('otel-audit-helm-')));
after(() => cleanup());

async function valuesFile(yaml: string): Promise<string> {
  const file = join(dir, `values-${++counter}.yaml`);
  await writeFile(file, yaml);
  return file;
}

async function coalesced(files: string[], chart = CHART_DIR): Promise<Record<string, unknown>> {
  return JSON.parse(await renderOk({ chart, values: files, showValues: true })) as Record<string, unknown>;
}

function errors(values: unknown): ErrorObject[] {
  return validate(values) ? [] : (validate.errors ?? []);
}

function describeErrors(errs: ErrorObject[]): string {
  return errs.map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n');
}

/** Asserts that the values over the base case fail the schema at `path` with `keyword`. */
async function rejects(yaml: string, path: string, keyword: string): Promise<void> {
  const errs = errors(await coalesced([BASE, await valuesFile(yaml)]));
  assert.ok(
    errs.some((e) => e.instancePath === path && e.keyword === keyword),
    `expected ${keyword} at ${path}, got:\n${describeErrors(errs) || '(valid)'}`,
  );
}

describe('values.schema.json', () => {
  for (const f of readdirSync(CI_VALUES_DIR).filter((x) => x.endsWith('-values.yaml'))) {
    it(`accepts ci/${f}`, async () => {
      const errs = errors(await coalesced([join(CI_VALUES_DIR, f)]));
      assert.deepEqual(errs, [], describeErrors(errs));
    });
  }

  it("accepts the example app's otelAudit values (Helm checks a subchart's values with its schema)", async () => {
    const values = await coalesced([], EXAMPLE_CHART_DIR);
    const errs = errors(values['otelAudit']);
    assert.deepEqual(errs, [], describeErrors(errs));
  });

  it('is strict: additionalProperties false on every object the chart defines', () => {
    const loose: string[] = [];
    const walk = (s: Record<string, unknown>, path: string) => {
      if (s['type'] === 'object' && s['properties'] !== undefined && s['additionalProperties'] !== false)
        loose.push(path);
      for (const [k, v] of Object.entries((s['properties'] as Record<string, Record<string, unknown>>) ?? {})) {
        walk(v, `${path}.${k}`);
      }
    };
    walk(schema as Record<string, unknown>, '$');
    assert.deepEqual(loose, []);
  });

  it('rejects the defaults alone: image.repository is required', async () => {
    const errs = errors(await coalesced([]));
    assert.ok(
      errs.some((e) => e.instancePath === '/image/repository' && e.keyword === 'minLength'),
      describeErrors(errs),
    );
  });

  it('rejects an unknown top-level key', () => rejects('replicaCount: 3\n', '', 'additionalProperties'));

  it('rejects an unknown nested key (a typo)', () =>
    rejects('exporters:\n  splunkHec:\n    tokn: x\n', '/exporters/splunkHec', 'additionalProperties'));

  it('rejects a string where a number belongs', () =>
    rejects('gateway:\n  replicas: two\n', '/gateway/replicas', 'type'));

  it('rejects a string where a bool belongs', () =>
    rejects('persistence:\n  enabled: "yes"\n', '/persistence/enabled', 'type'));

  it('rejects an unknown mode', () => rejects('mode: daemonset\n', '/mode', 'enum'));

  it('rejects a duration without a valid unit', () =>
    rejects('config:\n  shutdownTimeout: 25 seconds\n', '/config/shutdownTimeout', 'pattern'));

  it('rejects a spool size the sidecar would not accept', () =>
    rejects('config:\n  storage:\n    maxSize: 4gb\n', '/config/storage/maxSize', 'anyOf'));

  it('rejects a Kubernetes quantity that is not one', () =>
    rejects('persistence:\n  size: 8 GB\n', '/persistence/size', 'pattern'));

  it('rejects a required section deleted with null', () =>
    rejects('exporters:\n  file: null\n', '/exporters', 'required'));

  it('rejects a malformed image digest', () => rejects('image:\n  digest: latest\n', '/image/digest', 'pattern'));

  it('rejects a non-URL Splunk endpoint', () =>
    rejects('exporters:\n  splunkHec:\n    endpoint: splunk:8088\n', '/exporters/splunkHec/endpoint', 'pattern'));
});

describe('chart checks at render time', () => {
  async function fails(yaml: string, message: RegExp, base: string | null = BASE): Promise<void> {
    const files = base === null ? [await valuesFile(yaml)] : [base, await valuesFile(yaml)];
    const r = await render({ chart: CHART_DIR, values: files });
    assert.equal(r.code, 1, `rendering should fail; output:\n${r.stdout.slice(0, 400)}`);
    assert.match(r.stderr, message);
  }

  it('refuses a gateway without TLS, auth or insecure', () =>
    fails(
      'image:\n  repository: r.example/otel-audit\n',
      /set gateway\.tls\.secretName and\/or gateway\.auth\.secretName, or gateway\.insecure=true/,
      null,
    ));

  it('refuses a missing image.repository', () =>
    fails('gateway:\n  insecure: true\n', /image\.repository is required/, null));

  it('refuses a grace period shorter than preStop + shutdown_timeout', () =>
    fails('config:\n  shutdownTimeout: 1m\n', /terminationGracePeriodSeconds \(40\) must be at least .* \(75\)/));

  it('refuses a config without exporters', () =>
    fails('exporters:\n  file:\n    enabled: false\n', /enable at least one exporter/));

  it('refuses the SAP exporter without its credentials', async () => {
    await fails('exporters:\n  sapAuditlog:\n    enabled: true\n', /serviceBinding\.secretName is required/);
    await fails(
      'exporters:\n  sapAuditlog:\n    enabled: true\n    credentials: existingSecret\n',
      /existingSecret\.name is required/,
    );
  });

  it('refuses the Splunk exporter without endpoint or token Secret', async () => {
    await fails('exporters:\n  splunkHec:\n    enabled: true\n', /splunkHec\.endpoint is required/);
    await fails(
      'exporters:\n  splunkHec:\n    enabled: true\n    endpoint: https://s.example:8088\n',
      /splunkHec\.tokenSecret\.name is required/,
    );
  });

  it('refuses client certificates without a TLS Secret', () =>
    fails(
      'gateway:\n  tls:\n    secretName: ""\n    clientCAKey: ca.crt\n',
      /clientCAKey needs gateway\.tls\.secretName/,
    ));

  it('refuses autoscaling with minReplicas above maxReplicas', () =>
    fails('autoscaling:\n  enabled: true\n  minReplicas: 5\n  maxReplicas: 3\n', /minReplicas must not be greater/));

  it('refuses Kubernetes versions without native sidecars', async () => {
    const r = await render({ chart: CHART_DIR, values: [BASE], kubeVersion: '1.28.9' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /chart requires kubeVersion: >=1\.29\.0-0 which is incompatible with Kubernetes v1\.28\.9/);
  });

  it('refuses the sidecar templates in an app chart whose otel-audit values are not in sidecar mode', async () => {
    const r = await render({
      chart: EXAMPLE_CHART_DIR,
      values: [await valuesFile('otelAudit:\n  mode: gateway\n  gateway:\n    insecure: true\n')],
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /otel-audit\.sidecar is for mode: sidecar/);
  });

  it('refuses a retrieval puller without a system id or credentials, or that would write back to SAP', async () => {
    const retrieval = join(CI_VALUES_DIR, 'retrieval-splunk-values.yaml');
    await fails('retrieval:\n  systemId: ""\n', /retrieval\.systemId is required/, retrieval);
    await fails(
      'retrieval:\n  serviceBinding:\n    secretName: ""\n',
      /retrieval\.serviceBinding\.secretName is required/,
      retrieval,
    );
    await fails(
      'exporters:\n  sapAuditlog:\n    enabled: true\n    serviceBinding:\n      secretName: b\n',
      /exporters\.sapAuditlog cannot be enabled in retrieval mode: records retrieved from SAP Audit Log Service would be written back to it/,
      retrieval,
    );
    const errs = errors(
      await coalesced([retrieval, await valuesFile('retrieval:\n  categories: [audit.security-event]\n')]),
    );
    assert.ok(
      errs.some((e) => e.instancePath === '/retrieval/categories/0' && e.keyword === 'enum'),
      describeErrors(errs),
    );
  });

  it('renders the ServiceMonitor only when enabled and only for the gateway', async () => {
    const kinds = async (yaml: string) =>
      [
        ...(await renderOk({ chart: CHART_DIR, values: [BASE, await valuesFile(yaml)] })).matchAll(/^kind: (\w+)$/gm),
      ].map((m) => m[1]);
    assert.ok(!(await kinds('{}\n')).includes('ServiceMonitor'));
    assert.ok((await kinds('serviceMonitor:\n  enabled: true\n')).includes('ServiceMonitor'));
    assert.deepEqual(await kinds('mode: sidecar\nserviceMonitor:\n  enabled: true\n'), ['ConfigMap']);
  });
});
