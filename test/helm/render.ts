// Renders the Helm charts in helm/ with test/helm/renderer (a small Go program that implements
// Helm's template engine with sprig, see its main.go), which the tests build with `go build`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { REPO_ROOT } from '../support/paths.js';

export const CHART_DIR = join(REPO_ROOT, 'helm/otel-audit');
export const CI_VALUES_DIR = join(CHART_DIR, 'ci');
export const EXAMPLE_CHART_DIR = join(REPO_ROOT, 'helm/examples/app-with-sidecar');
export const GOLDEN_DIR = join(REPO_ROOT, 'test/helm/golden');

const RENDERER_SRC = join(REPO_ROOT, 'test/helm/renderer');
const BIN_DIR = join(REPO_ROOT, 'test/helm/.bin');
const RENDERER = join(BIN_DIR, 'helm-render');
const GOPATH = '/usr/share/gocode';
export const GO_INSTALL_HINT = 'apt-get install golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev';

let built: string | undefined;

/** Builds the renderer (GOPATH mode, Debian's Go packages); fails with the install command if Go is missing. */
export function buildRenderer(): string {
  if (built !== undefined) return built;
  const version = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.error !== undefined || version.status !== 0) {
    throw new Error(
      `the Helm chart tests build test/helm/renderer with Go, which is not installed: ${GO_INSTALL_HINT}`,
    );
  }
  for (const pkg of ['github.com/Masterminds/sprig', 'sigs.k8s.io/yaml']) {
    if (!existsSync(join(GOPATH, 'src', pkg))) {
      throw new Error(`the Go sources of ${pkg} are missing under ${GOPATH}/src: ${GO_INSTALL_HINT}`);
    }
  }
  mkdirSync(BIN_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '' };
  if (env['GOCACHE'] === undefined && env['XDG_CACHE_HOME'] === undefined && env['HOME'] === undefined) {
    env['GOCACHE'] = join(BIN_DIR, 'go-cache');
  }
  // Test files run in parallel processes: build to a private name, then rename (atomic).
  const tmp = `${RENDERER}.${process.pid}`;
  // A bound on the build: spawnSync blocks the event loop, so no test timeout could end it.
  const r = spawnSync('go', ['build', '-o', tmp, '.'], {
    cwd: RENDERER_SRC,
    encoding: 'utf8',
    env,
    timeout: 300_000,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) throw new Error(`go build test/helm/renderer failed:\n${r.stdout}${r.stderr}`);
  renameSync(tmp, RENDERER);
  built = RENDERER;
  return RENDERER;
}

export interface RenderOptions {
  readonly chart: string;
  /** Values files, later ones win. */
  readonly values?: readonly string[];
  readonly name?: string;
  readonly namespace?: string;
  readonly kubeVersion?: string;
  /** Print the coalesced values as JSON instead of the manifests. */
  readonly showValues?: boolean;
  readonly notes?: boolean;
}

export interface RenderResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function args(o: RenderOptions): string[] {
  const a = ['-name', o.name ?? 'audit', '-namespace', o.namespace ?? 'observability'];
  if (o.kubeVersion !== undefined) a.push('-kube-version', o.kubeVersion);
  for (const v of o.values ?? []) a.push('-f', v);
  if (o.showValues === true) a.push('-show-values');
  if (o.notes === true) a.push('-notes');
  a.push(o.chart);
  return a;
}

export function render(o: RenderOptions): Promise<RenderResult> {
  const bin = buildRenderer();
  return new Promise((resolve, reject) => {
    // Killed if it hangs: a test that times out does not leave it running.
    const child = spawn(bin, args(o), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Renders and fails with the renderer's message if it does not succeed. */
export async function renderOk(o: RenderOptions): Promise<string> {
  const r = await render(o);
  if (r.code !== 0) throw new Error(`rendering ${o.chart} with ${(o.values ?? []).join(', ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A Kubernetes object as rendered (loosely typed: the tests look into it). */
export type K8sObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Manifest {
  /** `<chart>/templates/<file>` as in the `# Source:` line. */
  readonly source: string;
  readonly object: K8sObject;
}

/** Splits `helm template` output into its documents. */
export function parseManifests(output: string): Manifest[] {
  if (!output.startsWith('---\n# Source: ')) throw new Error(`unexpected renderer output: ${output.slice(0, 200)}`);
  return output
    .split(/^---\n# Source: /m)
    .slice(1)
    .map((part) => {
      const nl = part.indexOf('\n');
      const source = part.slice(0, nl);
      const doc = parseDocument(part.slice(nl + 1), { uniqueKeys: true });
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return { source, object: doc.toJS() as K8sObject };
    });
}

/** The pod spec of a workload, or undefined. */
export function podSpec(o: K8sObject): K8sObject | undefined {
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o['kind'] as string)
    ? (o['spec']?.template?.spec as K8sObject | undefined)
    : undefined;
}
