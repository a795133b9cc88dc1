// The Helm chart helm/otel-audit and the example application chart, rendered as `helm template`
// would (test/helm/renderer): golden files, Kubernetes schemas, the generated otel-audit config
// (checked by `otel-audit validate` with the environment the pod would have) and the invariants a
// deployment of otel-audit needs (one spool volume per replica, probes, secure defaults, shutdown).
//
// UPDATE_GOLDEN=1 node scripts/run-tests.mjs test/dist/helm rewrites test/helm/golden/*.yaml.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { COLLECTOR_CONFIG_DIR, SIDECAR_CLI } from '../support/paths.js';
import { tempDir } from '../support/tmp.js';
import { GATEWAY_NODE_ARGS } from '../support/sidecar-process.js';
import { validateObject } from './k8s-schema.js';
import {
  CHART_DIR,
  CI_VALUES_DIR,
  EXAMPLE_CHART_DIR,
  GOLDEN_DIR,
  parseManifests,
  podSpec,
  renderOk,
  type K8sObject,
  type Manifest,
  type RenderOptions,
} from './render.js';

interface Case extends RenderOptions {
  readonly id: string;
}

const cases: Case[] = [
  ...readdirSync(CI_VALUES_DIR)
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => ({
      id: f.replace(/-values\.yaml$/, ''),
      chart: CHART_DIR,
      values: [join(CI_VALUES_DIR, f)],
      name: 'audit',
      namespace: 'observability',
    })),
  { id: 'example-app-with-sidecar', chart: EXAMPLE_CHART_DIR, name: 'billing', namespace: 'shop' },
];

const CRDS: Record<string, (o: K8sObject, all: K8sObject[]) => void> = {
  'monitoring.coreos.com/v1/ServiceMonitor': (o, all) => {
    assert.ok(o['metadata']?.name, 'metadata.name');
    const selector = o['spec']?.selector as K8sObject;
    assert.ok(selector?.matchLabels && Object.keys(selector.matchLabels).length > 0, 'spec.selector.matchLabels');
    const endpoints = o['spec']?.endpoints as K8sObject[];
    assert.ok(Array.isArray(endpoints) && endpoints.length > 0, 'spec.endpoints');
    const services = all.filter((s) => s['kind'] === 'Service' && selects(selector, s['metadata']?.labels));
    assert.equal(services.length, 1, 'the ServiceMonitor selects one rendered Service (each pod scraped once)');
    for (const e of endpoints) {
      assert.match(String(e['interval']), /^\d+[smh]$/);
      for (const s of services) {
        assert.ok(
          (s['spec'].ports as K8sObject[]).some((p) => p['name'] === e['port']),
          `Service ${s['metadata'].name} has port ${e['port']}`,
        );
      }
    }
  },
};

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** A LabelSelector with matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
function selects(selector: K8sObject, labels: Record<string, string> | undefined): boolean {
  if (!matches((selector['matchLabels'] as Record<string, string>) ?? {}, labels)) return false;
  return ((selector['matchExpressions'] as K8sObject[]) ?? []).every((e) => {
    const value = labels?.[e['key'] as string];
    switch (e['operator']) {
      case 'In':
        return value !== undefined && (e['values'] as string[]).includes(value);
      case 'NotIn':
        return value === undefined || !(e['values'] as string[]).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return assert.fail(`unknown operator ${e['operator']}`);
    }
  });
}

/** The otel-audit container of a pod spec (a container, or a native sidecar init container). */
function otelAuditContainer(spec: K8sObject): { container: K8sObject; sidecar: boolean } | undefined {
  const isOtelAudit = (c: K8sObject) => (c['args'] as string[] | undefined)?.[0] === 'run';
  const init = (spec['initContainers'] as K8sObject[] | undefined)?.find(isOtelAudit);
  if (init) return { container: init, sidecar: true };
  const main = (spec['containers'] as K8sObject[]).find(isOtelAudit);
  return main ? { container: main, sidecar: false } : undefined;
}

/** What a pod's environment would hold: literal values, and stand-ins for values from Secrets. */
function podEnvironment(container: K8sObject): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  for (const e of (container['env'] as K8sObject[] | undefined) ?? []) {
    const name = e['name'] as string;
    if (typeof e['value'] === 'string') env[name] = e['value'];
    else if (e['valueFrom']?.secretKeyRef)
      env[name] = /URL$/.test(name) ? `https://${name.toLowerCase()}.example` : `secret-${name}`;
    else assert.fail(`env ${name}: unexpected source ${JSON.stringify(e)}`);
  }
  return env;
}

function cliValidate(file: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIDECAR_CLI, 'validate', '--config', file], {
      env,
      timeout: 30_000, // killed if it hangs, so a timed-out test does not leave it running
      killSignal: 'SIGKILL',
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function seconds(duration: string): number {
  const m = /^([0-9.]+)(ms|s|m|h)?$/.exec(duration);
  assert.ok(m, `duration ${duration}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] ?? 'ms']!;
}

function configOf(manifests: Manifest[]): { name: string; text: string; config: K8sObject } {
  const cms = manifests.filter((m) => m.object['kind'] === 'ConfigMap');
  assert.equal(cms.length, 1, 'one ConfigMap');
  const text = cms[0]!.object['data']['config.yaml'] as string;
  return { name: cms[0]!.object['metadata'].name as string, text, config: parse(text) as K8sObject };
}

/**
 * In sidecar mode the chart renders no workload: the case's values go through the example app
 * chart (as its otelAudit values), which includes the sidecar templates like any application would.
 */
async function throughExampleApp(c: Case): Promise<K8sObject[]> {
  const { dir, cleanup } = await tempDir();
  try {
    const file = join(dir, 'values.yaml');
    const values = (c.values ?? []).map((f) => parse(readFileSync(f, 'utf8')) as unknown);
    await writeFile(file, stringify({ otelAudit: Object.assign({}, ...values) as unknown }));
    const out = await renderOk({ chart: EXAMPLE_CHART_DIR, values: [file], name: c.name, namespace: c.namespace });
    return parseManifests(out)
      .map((m) => m.object)
      .filter((o) => podSpec(o) !== undefined);
  } finally {
    await cleanup();
  }
}

for (const c of cases) {
  describe(`chart case ${c.id}`, () => {
    let output = '';
    let manifests: Manifest[] = [];
    let objects: K8sObject[] = [];
    /** The workloads running otel-audit (in sidecar mode: the example app with these values). */
    let workloads: K8sObject[] = [];
    before(async () => {
      output = await renderOk(c);
      manifests = parseManifests(output);
      objects = manifests.map((m) => m.object);
      workloads = objects.filter((o) => podSpec(o) !== undefined);
      if (workloads.length === 0) workloads = await throughExampleApp(c);
    });

    it('matches its golden file', () => {
      const golden = join(GOLDEN_DIR, `${c.id}.yaml`);
      if (process.env['UPDATE_GOLDEN'] === '1') {
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(golden, output);
        return;
      }
      let expected: string;
      try {
        expected = readFileSync(golden, 'utf8');
      } catch {
        assert.fail(`${golden} is missing: run the tests with UPDATE_GOLDEN=1 and review it`);
      }
      if (output !== expected) {
        const a = output.split('\n');
        const b = expected.split('\n');
        const i = a.findIndex((line, n) => line !== b[n]);
        assert.fail(
          `rendered output differs from ${golden} at line ${i + 1}:\n  rendered: ${a[i]}\n  golden:   ${b[i]}\n` +
            'if the change is intended, run with UPDATE_GOLDEN=1 and review the diff',
        );
      }
    });

    it('renders only objects that are valid against the Kubernetes API schemas', async () => {
      assert.ok(objects.length > 0);
      for (const o of objects) {
        const type = `${o['apiVersion']}/${o['kind']}`;
        const what = `${type} ${o['metadata']?.name} (${manifests[objects.indexOf(o)]!.source})`;
        const crd = CRDS[type];
        try {
          if (crd) crd(o, objects);
          else await validateObject(o);
        } catch (err) {
          assert.fail(`${what}: ${(err as Error).message}`);
        }
        assert.match(o['metadata']?.name as string, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${what}: name`);
        assert.ok((o['metadata'].name as string).length <= 63, `${what}: name length`);
      }
    });

    it('generates a config.yaml that `otel-audit validate` accepts with the pod environment', async () => {
      const { text } = configOf(manifests);
      const pods = workloads.map(podSpec).filter((s) => s !== undefined);
      assert.ok(pods.length > 0, 'a workload runs otel-audit');
      const { dir, cleanup } = await tempDir();
      try {
        const file = join(dir, 'config.yaml');
        await writeFile(file, text);
        for (const spec of pods) {
          const found = otelAuditContainer(spec);
          assert.ok(found, 'the pod has an otel-audit container');
          const r = await cliValidate(file, podEnvironment(found.container));
          assert.equal(r.code, 0, r.output);
          const receiver = c.id.startsWith('retrieval') ? 'sap_auditlog_retrieval' : 'otlp';
          assert.match(r.output, new RegExp(`valid \\(pipeline audit: ${receiver} → `));
        }
      } finally {
        await cleanup();
      }
    });

    it('runs otel-audit securely, probed on the telemetry port, with enough time to shut down', () => {
      const { name: configMapName, config } = configOf(manifests);
      const metricsPort = Number(String(config['service'].telemetry.address).split(':').pop());
      assert.ok(workloads.length > 0);
      for (const o of workloads) {
        const spec = podSpec(o)!;
        const found = otelAuditContainer(spec);
        assert.ok(found);
        const { container, sidecar } = found;
        const sc = container['securityContext'] as K8sObject;
        assert.equal(sc['runAsNonRoot'], true);
        assert.equal(sc['runAsUser'], 10001);
        assert.equal(sc['readOnlyRootFilesystem'], true);
        assert.equal(sc['allowPrivilegeEscalation'], false);
        assert.deepEqual(sc['capabilities'], { drop: ['ALL'] });
        assert.equal(sc['seccompProfile']?.type, 'RuntimeDefault');
        assert.ok(container['resources']?.requests?.memory && container['resources']?.limits?.memory, 'resources');
        assert.equal(container['livenessProbe'].httpGet.path, '/healthz');
        assert.equal(container['readinessProbe'].httpGet.path, '/readyz');
        assert.equal(container['startupProbe'].httpGet.path, '/healthz');
        for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
          assert.equal(container[p].httpGet.port, metricsPort, `${p} on service.telemetry.address`);
        }
        assert.ok(
          (container['ports'] as K8sObject[]).some((p) => p['containerPort'] === metricsPort),
          'metrics port declared',
        );
        // Every mount has a volume; the config comes from the rendered ConfigMap; the spool is on
        // the mount at /var/lib/otel-audit.
        const volumes = new Map(((spec['volumes'] as K8sObject[]) ?? []).map((v) => [v['name'] as string, v]));
        const claims = ((o['spec'].volumeClaimTemplates as K8sObject[] | undefined) ?? []).map(
          (t) => t['metadata'].name as string,
        );
        for (const m of container['volumeMounts'] as K8sObject[]) {
          assert.ok(volumes.has(m['name']) || claims.includes(m['name']), `volume ${m['name']} exists`);
        }
        const configMount = (container['volumeMounts'] as K8sObject[]).find((m) =>
          (container['args'] as string[]).at(-1)!.startsWith(`${m['mountPath']}/`),
        );
        assert.ok(configMount, '--config is on a mounted volume');
        assert.equal(volumes.get(configMount['name'])?.configMap?.name, configMapName);
        assert.ok(String(config['extensions'].storage.directory).startsWith('/var/lib/otel-audit/'));
        assert.ok(
          (container['volumeMounts'] as K8sObject[]).some((m) => m['mountPath'] === '/var/lib/otel-audit'),
          'spool volume mounted',
        );
        // The grace period covers preStop + shutdown_timeout.
        const grace = spec['terminationGracePeriodSeconds'] as number;
        const preStop = (container['lifecycle']?.preStop?.sleep?.seconds as number | undefined) ?? 0;
        assert.ok(
          grace > preStop + seconds(String(config['service'].shutdown_timeout)),
          `terminationGracePeriodSeconds ${grace} > preStop ${preStop} + shutdown_timeout`,
        );
        if (sidecar) {
          assert.equal(container['restartPolicy'], 'Always', 'native sidecar');
        } else {
          assert.equal(spec['securityContext']?.runAsNonRoot, true);
          assert.equal(spec['securityContext']?.fsGroup, 10001, 'the spool volume is writable for uid 10001');
          assert.equal(spec['automountServiceAccountToken'], false);
        }
        assert.match(
          String(o['spec'].template.metadata.annotations?.['checksum/config'] ?? '') +
            String(o['spec'].template.metadata.annotations?.['checksum/otel-audit-config'] ?? ''),
          /^[0-9a-f]{64}$/,
          'a checksum annotation rolls the pods when the config changes',
        );
      }
    });

    if (c.chart === CHART_DIR && c.id.startsWith('retrieval')) {
      it('runs one puller replica on its own spool and checkpoint volume, with no Service and no sap_auditlog', () => {
        const { config } = configOf(manifests);
        const deployments = objects.filter((o) => o['kind'] === 'Deployment' || o['kind'] === 'StatefulSet');
        assert.equal(deployments.length, 1);
        const d = deployments[0]!;
        assert.equal(d['kind'], 'Deployment');
        assert.equal(d['spec'].replicas, 1, 'one replica per subaccount');
        assert.equal(d['spec'].strategy.type, 'Recreate', 'never two pods on one storage directory');
        assert.ok(
          !objects.some((o) => ['Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(o['kind'])),
        );
        // The receiver and no OTLP: nothing listens but the telemetry port.
        assert.deepEqual(Object.keys(config['receivers']), ['sap_auditlog_retrieval']);
        const receiver = config['receivers'].sap_auditlog_retrieval as K8sObject;
        assert.ok(String(receiver['system_id']).length > 0);
        assert.ok(!('sap_auditlog' in config['exporters']), 'never back to SAP');
        const spec = podSpec(d)!;
        const container = otelAuditContainer(spec)!.container;
        assert.deepEqual(
          (container['ports'] as K8sObject[]).map((p) => p['name']),
          ['metrics'],
        );
        assert.equal(container['lifecycle'], undefined, 'no preStop: no Service to leave');
        const values = parse(readFileSync(c.values![0]!, 'utf8')) as K8sObject;
        const data = (spec['volumes'] as K8sObject[]).find((v) => v['name'] === 'otel-audit-data')!;
        if (values['persistence']?.enabled === false) {
          assert.ok(data['emptyDir'], 'without persistence: an emptyDir');
        } else {
          const claim = objects.find((o) => o['kind'] === 'PersistentVolumeClaim');
          assert.ok(claim, 'a PersistentVolumeClaim holds the spool and the checkpoint');
          assert.equal(data['persistentVolumeClaim']?.claimName, claim['metadata'].name);
          assert.deepEqual(claim['spec'].accessModes, ['ReadWriteOnce']);
          assert.equal(claim['metadata'].annotations?.['helm.sh/resource-policy'], 'keep');
        }
        // Credentials: a mounted binding under SERVICE_BINDING_ROOT, or the key's fields from a Secret.
        const env = (container['env'] ?? []) as K8sObject[];
        if (receiver['binding'] === 'service_binding') {
          assert.equal(env.find((e) => e['name'] === 'SERVICE_BINDING_ROOT')?.['value'], '/bindings');
          assert.ok(
            (container['volumeMounts'] as K8sObject[]).some(
              (m) => m['mountPath'] === `/bindings/${String(receiver['binding_name'])}`,
            ),
          );
        } else {
          assert.ok(env.some((e) => e['name'] === 'SAP_RETRIEVAL_URL' && e['valueFrom']?.secretKeyRef));
        }
      });
    }

    if (c.chart === CHART_DIR && !c.id.startsWith('sidecar') && !c.id.startsWith('retrieval')) {
      it('gives each gateway replica its own spool volume and exposes OTLP safely', () => {
        const { config } = configOf(manifests);
        const workloads = objects.filter((o) => o['kind'] === 'StatefulSet' || o['kind'] === 'Deployment');
        assert.equal(workloads.length, 1);
        const w = workloads[0]!;
        const spec = podSpec(w)!;
        const mount = (otelAuditContainer(spec)!.container['volumeMounts'] as K8sObject[]).find(
          (m) => m['mountPath'] === '/var/lib/otel-audit',
        )!;
        if (w['kind'] === 'StatefulSet') {
          // One claim per replica from volumeClaimTemplates; never a shared volume in the pod spec.
          const claim = (w['spec'].volumeClaimTemplates as K8sObject[]).find(
            (t) => t['metadata'].name === mount['name'],
          );
          assert.ok(claim, 'the spool is on a volumeClaimTemplate');
          assert.ok(!(spec['volumes'] as K8sObject[]).some((v) => v['name'] === mount['name']));
          assert.deepEqual(claim['spec'].accessModes, ['ReadWriteOnce']);
          assert.equal(w['spec'].persistentVolumeClaimRetentionPolicy.whenScaled, 'Retain');
          const headless = objects.find((o) => o['kind'] === 'Service' && o['metadata'].name === w['spec'].serviceName);
          assert.equal(headless?.['spec'].clusterIP, 'None', 'serviceName is a headless Service');
        } else {
          const volume = (spec['volumes'] as K8sObject[]).find((v) => v['name'] === mount['name']);
          assert.ok(volume?.['emptyDir'], 'without persistence the spool is an emptyDir per pod');
          assert.equal(w['spec'].strategy.rollingUpdate.maxUnavailable, 0);
        }
        // Receivers and telemetry on all interfaces (listenAddress), each receiver protected (or explicitly insecure).
        const listen = (parse(readFileSync(c.values![0]!, 'utf8')) as K8sObject)['listenAddress'] ?? '0.0.0.0';
        const all = String(listen).includes(':') ? `[${listen}]` : String(listen);
        assert.equal(config['service'].telemetry.address, `${all}:8888`);
        for (const [name, p] of Object.entries(config['receivers'].otlp.protocols as Record<string, K8sObject>)) {
          assert.equal(p['endpoint'], `${all}:${name === 'grpc' ? 4317 : 4318}`, `${name} endpoint`);
          assert.ok(p['tls'] || p['auth'] || p['insecure'] === true, `${name}: tls, auth or insecure`);
        }
        // The Service forwards 4317/4318/8888 to named container ports.
        const service = objects.find((o) => o['kind'] === 'Service' && o['spec'].clusterIP !== 'None')!;
        const containerPorts = (otelAuditContainer(spec)!.container['ports'] as K8sObject[]).map((p) => p['name']);
        assert.deepEqual(
          (service['spec'].ports as K8sObject[]).map((p) => [p['port'], p['targetPort']]),
          [
            [4317, 'otlp-grpc'],
            [4318, 'otlp-http'],
            [8888, 'metrics'],
          ],
        );
        for (const p of service['spec'].ports as K8sObject[]) assert.ok(containerPorts.includes(p['targetPort']));
        // The node flags the throughput benchmark measures the gateway with.
        const env = (otelAuditContainer(spec)!.container['env'] ?? []) as K8sObject[];
        assert.equal(env.find((e) => e['name'] === 'NODE_OPTIONS')?.['value'], GATEWAY_NODE_ARGS.join(' '));
        assert.ok(matches(service['spec'].selector, spec && w['spec'].template.metadata.labels));
        // Autoscaler, disruption budget and network policy point at these pods.
        const hpa = objects.find((o) => o['kind'] === 'HorizontalPodAutoscaler');
        if (hpa) {
          assert.deepEqual(hpa['spec'].scaleTargetRef, {
            apiVersion: 'apps/v1',
            kind: w['kind'],
            name: w['metadata'].name,
          });
          assert.equal(w['spec'].replicas, undefined, 'the HPA owns the replica count');
        }
        const pdb = objects.find((o) => o['kind'] === 'PodDisruptionBudget');
        if (pdb) assert.ok(matches(pdb['spec'].selector.matchLabels, w['spec'].template.metadata.labels));
        const policy = objects.find((o) => o['kind'] === 'NetworkPolicy');
        if (policy) {
          assert.ok(matches(policy['spec'].podSelector.matchLabels, w['spec'].template.metadata.labels));
          for (const rule of policy['spec'].ingress as K8sObject[]) {
            for (const p of rule['ports'] as K8sObject[]) assert.ok(containerPorts.includes(p['port']), p['port']);
          }
        }
      });
    }

    if (c.chart === EXAMPLE_CHART_DIR) {
      it('adds otel-audit to the app pods as a native sidecar the app reaches on loopback', () => {
        const { config } = configOf(manifests);
        const deployment = objects.find((o) => o['kind'] === 'Deployment')!;
        const spec = podSpec(deployment)!;
        const sidecar = otelAuditContainer(spec)!;
        assert.equal(sidecar.sidecar, true);
        assert.equal(sidecar.container['restartPolicy'], 'Always');
        const env = (sidecar.container['env'] ?? []) as K8sObject[];
        assert.ok(!env.some((e) => e['name'] === 'NODE_OPTIONS'), "a sidecar runs with Node's defaults");
        const app = (spec['containers'] as K8sObject[]).find((x) => x['name'] === 'app')!;
        const endpoint = (app['env'] as K8sObject[]).find((e) => e['name'] === 'OTEL_EXPORTER_OTLP_ENDPOINT');
        assert.equal(endpoint?.['value'], 'http://127.0.0.1:4318');
        assert.equal(config['receivers'].otlp.protocols.http.endpoint, '127.0.0.1:4318');
        assert.equal(config['receivers'].otlp.protocols.grpc.endpoint, '127.0.0.1:4317');
        // The app's grace period covers its own shutdown and the sidecar's drain after it.
        assert.ok(spec['terminationGracePeriodSeconds'] >= seconds(config['service'].shutdown_timeout) + 20);
        // Nothing of the gateway is rendered in sidecar mode.
        assert.deepEqual(objects.map((o) => o['kind']).sort(), ['ConfigMap', 'Deployment']);
      });
    }
  });
}

describe('chart behaviour', () => {
  const gateway = join(CI_VALUES_DIR, 'gateway-file-values.yaml');
  async function checksum(extra: string): Promise<string> {
    const { dir, cleanup } = await tempDir();
    try {
      const file = join(dir, 'extra.yaml');
      await writeFile(file, extra);
      const objects = parseManifests(await renderOk({ chart: CHART_DIR, values: [gateway, file] })).map(
        (m) => m.object,
      );
      return objects.find((o) => o['kind'] === 'StatefulSet')!['spec'].template.metadata.annotations[
        'checksum/config'
      ] as string;
    } finally {
      await cleanup();
    }
  }

  it('rolls the pods when config.yaml changes, and only then', async () => {
    const base = await checksum('{}\n');
    assert.notEqual(await checksum('config:\n  logLevel: debug\n'), base);
    assert.notEqual(
      await checksum('extraConfig:\n  receivers:\n    otlp:\n      limits:\n        max_nesting_depth: 8\n'),
      base,
    );
    assert.equal(await checksum('podAnnotations:\n  team: audit\n'), base);
  });

  it('computes the checksum annotation from the ConfigMap content', async () => {
    const objects = parseManifests(await renderOk({ chart: CHART_DIR, values: [gateway] })).map((m) => m.object);
    const text = objects.find((o) => o['kind'] === 'ConfigMap')!['data']['config.yaml'] as string;
    // The ConfigMap holds two comment lines and then the config the checksum is computed from.
    const body = text.split('\n').slice(2).join('\n').replace(/\n$/, '');
    const sts = objects.find((o) => o['kind'] === 'StatefulSet')!;
    assert.equal(
      sts['spec'].template.metadata.annotations['checksum/config'],
      createHash('sha256').update(body).digest('hex'),
    );
  });

  it('names the gateway Service as collector-config/otelcol/otelcol-gateway.yaml expects by default', async () => {
    const objects = parseManifests(
      await renderOk({ chart: CHART_DIR, values: [gateway], name: 'otel-audit', namespace: 'otel-audit' }),
    ).map((m) => m.object);
    const otelcol = readFileSync(join(COLLECTOR_CONFIG_DIR, 'otelcol/otelcol-gateway.yaml'), 'utf8');
    const service = objects.find((o) => o['kind'] === 'Service' && o['spec'].clusterIP !== 'None')!;
    assert.ok(otelcol.includes(`\${env:OTEL_AUDIT_ENDPOINT:-${service['metadata'].name}.otel-audit.svc:4317}`));
  });

  it('keeps the image tag default in _helpers.tpl equal to Chart.yaml appVersion', () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const helpers = readFileSync(join(CHART_DIR, 'templates/_helpers.tpl'), 'utf8');
    const m = /define "otel-audit\.appVersion" -}}\n(.*)\n/.exec(helpers);
    assert.equal(m?.[1], chart.appVersion);
  });

  it('prints usage notes for both modes', async () => {
    const gatewayNotes = await renderOk({ chart: CHART_DIR, values: [gateway], notes: true });
    assert.match(gatewayNotes, /NOTES:\n.*gateway mode/);
    assert.match(gatewayNotes, /gRPC: audit-otel-audit\.observability\.svc:4317/);
    const sidecarNotes = await renderOk({
      chart: CHART_DIR,
      values: [join(CI_VALUES_DIR, 'sidecar-values.yaml')],
      notes: true,
    });
    assert.match(sidecarNotes, /"otel-audit\.sidecar" +under spec\.initContainers/);
  });
});
