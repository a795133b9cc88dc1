// The Dockerfile cannot be built here (no container engine), so its paths are checked against the
// repository after `npm run build`: everything it copies from the build context exists and is not
// excluded by .dockerignore, everything it copies out of the build stage (/src = the repository)
// exists, the runtime stage gets every workspace package the sidecar depends on, and the
// entrypoint is the compiled CLI.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/paths.js';

interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    const m = /^\s*(\w+)\s+(.*)$/.exec(line);
    assert.ok(m, `Dockerfile line ${start + 1}: ${line}`);
    const op = m[1]!.toUpperCase();
    if (op === 'ARG' && stages.length === 0) continue;
    if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2]!.trim());
      assert.ok(from, `FROM on line ${start + 1}`);
      stages.push({ base: from[1]!, name: from[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    assert.ok(stages.length > 0, `${op} before FROM`);
    stages.at(-1)!.instructions.push({ op, args: m[2]!.trim(), line: start + 1 });
  }
  return stages;
}

interface Copy {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly dest: string;
  readonly line: number;
}

function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const paths = words.filter((w) => !w.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1)!, line: i.line };
    });
}

/** A .dockerignore matcher: globs per path segment, `**` for any number of directories. */
function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((p) => {
      const segments = p.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
      const body = segments
        .map((seg, i) => {
          if (seg === '**') return '(?:[^/]+/)*';
          const glob = seg
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]');
          return i < segments.length - 1 ? `${glob}/` : glob;
        })
        .join('');
      // A pattern also excludes everything below what it matches.
      return new RegExp(`^${body}(?:/.*)?$`);
    });
  return (path) => patterns.some((re) => re.test(path));
}

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const ignored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
const stage = (name: string) => {
  const s = stages.find((x) => x.name === name);
  assert.ok(s, `stage ${name}`);
  return s;
};
const instruction = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op);
const json = (args: string) => JSON.parse(args) as string[];

describe('Dockerfile', () => {
  it('has build, deps and runtime stages, the runtime on a slim or distroless base', () => {
    assert.deepEqual(
      stages.map((s) => s.name),
      ['build', 'deps', 'runtime'],
    );
    const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1];
    assert.match(arg('NODE_IMAGE') ?? '', /^node:20-/);
    assert.match(arg('NODE_RUNTIME_IMAGE') ?? '', /^(node:20-bookworm-slim|gcr\.io\/distroless\/nodejs20)/);
    assert.equal(stage('runtime').base, '${NODE_RUNTIME_IMAGE}');
  });

  it('copies only paths that exist in the build context and are not ignored', () => {
    for (const s of stages) {
      for (const c of copies(s).filter((x) => x.from === undefined)) {
        for (const src of c.sources) {
          assert.ok(existsSync(join(REPO_ROOT, src)), `line ${c.line}: ${src} does not exist`);
          assert.ok(!ignored(src), `line ${c.line}: ${src} is excluded by .dockerignore`);
        }
      }
    }
  });

  it('excludes local builds and installs from the context', () => {
    for (const p of ['node_modules', 'packages/sidecar/node_modules', 'packages/sidecar/dist', 'test/dist', '.git']) {
      assert.ok(ignored(p), `${p} should be in .dockerignore`);
    }
    for (const p of ['packages/sidecar/src/cli/main.ts', 'packages/sidecar/package.json', 'package-lock.json']) {
      assert.ok(!ignored(p), `${p} must not be in .dockerignore`);
    }
  });

  it('installs with npm ci from the lockfile, after copying every workspace manifest', () => {
    const rootPkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const name of ['build', 'deps']) {
      const s = stage(name);
      const copied = copies(s).flatMap((c) => c.sources);
      assert.ok(copied.includes('package-lock.json'));
      for (const ws of rootPkg.workspaces)
        assert.ok(copied.includes(`${ws}/package.json`), `${name}: ${ws}/package.json`);
      assert.ok(
        instruction(s, 'RUN').some((r) => /\bnpm ci\b/.test(r.args)),
        `${name}: npm ci`,
      );
    }
    const deps = instruction(stage('deps'), 'RUN')
      .map((r) => r.args)
      .join('\n');
    assert.match(deps, /npm ci --omit=dev --workspace=@otel-audit\/sidecar/);
  });

  it('takes from the build stage only files that `npm run build` produces', () => {
    const fromBuild = stages.flatMap(copies).filter((c) => c.from === 'build');
    assert.ok(fromBuild.length > 0);
    for (const c of fromBuild) {
      for (const src of c.sources) {
        assert.ok(src.startsWith('/src/'), `line ${c.line}: the build stage works in /src`);
        const path = join(REPO_ROOT, src.slice('/src/'.length));
        assert.ok(existsSync(path), `line ${c.line}: ${path} does not exist after npm run build`);
      }
    }
  });

  it("ships the sidecar's workspace dependencies (compiled) next to it", () => {
    const sidecar = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/sidecar/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      files: string[];
    };
    const workspaceDeps = Object.keys(sidecar.dependencies).filter((d) => d.startsWith('@otel-audit/'));
    assert.ok(workspaceDeps.includes('@otel-audit/semconv'));
    const fromBuild = copies(stage('deps')).filter((c) => c.from === 'build');
    for (const pkg of ['sidecar', ...workspaceDeps.map((d) => d.slice('@otel-audit/'.length))]) {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, `packages/${pkg}/package.json`), 'utf8')) as {
        files: string[];
        main: string;
      };
      for (const f of manifest.files) {
        assert.ok(
          fromBuild.some((c) => c.sources.includes(`/src/packages/${pkg}/${f}`) && c.dest === `packages/${pkg}/${f}`),
          `packages/${pkg}/${f} (the package's "files") is copied into the image`,
        );
      }
      assert.ok(existsSync(join(REPO_ROOT, `packages/${pkg}`, manifest.main)), `${pkg} main`);
    }
    // The runtime stage takes the whole /app of the deps stage (node_modules with the workspace
    // links, packages/*/package.json, packages/*/node_modules, compiled files).
    assert.ok(
      copies(stage('runtime')).some((c) => c.from === 'deps' && c.sources.includes('/app') && c.dest === '/app'),
    );
    assert.equal(stage('deps').instructions.find((i) => i.op === 'WORKDIR')?.args, '/app');
  });

  it('leaves the trail tools (DuckDB) out of the image unless built with TRAIL_TOOLS=true', () => {
    assert.match(dockerfile, /^ARG TRAIL_TOOLS=false$/m);
    const deps = stage('deps');
    assert.ok(deps.instructions.some((i) => i.op === 'ARG' && i.args === 'TRAIL_TOOLS'));
    const runs = instruction(deps, 'RUN').map((r) => r.args);
    const install = runs.find((r) => /\bnpm ci\b/.test(r))!;
    assert.match(install, /\$\(if \[ "\$TRAIL_TOOLS" = true \]; then echo --workspace=@otel-audit\/trail; fi\)/);
    assert.ok(
      runs.some((r) =>
        /^if \[ "\$TRAIL_TOOLS" != true \]; then rm -rf packages\/trail node_modules\/@otel-audit\/trail node_modules\/@duckdb; fi$/.test(
          r,
        ),
      ),
      'without TRAIL_TOOLS the trail package and DuckDB are removed',
    );
    // The sidecar never depends on the trail tools: it loads them with a dynamic import.
    const sidecar = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/sidecar/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.ok(!Object.keys(sidecar.dependencies).some((d) => d === '@otel-audit/trail' || d.startsWith('@duckdb/')));
    const trail = JSON.parse(readFileSync(join(REPO_ROOT, 'packages/trail/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.ok('@duckdb/node-api' in trail.dependencies);
  });

  it('runs the compiled CLI as uid 10001 with the conventional config path and ports', () => {
    const runtime = stage('runtime');
    const entrypoint = json(instruction(runtime, 'ENTRYPOINT')[0]!.args);
    assert.equal(entrypoint[0], 'node');
    assert.match(entrypoint[1]!, /^\/app\//);
    assert.ok(
      existsSync(join(REPO_ROOT, entrypoint[1]!.slice('/app/'.length))),
      `${entrypoint[1]} after npm run build`,
    );
    assert.deepEqual(json(instruction(runtime, 'CMD')[0]!.args), ['run', '--config', '/etc/otel-audit/config.yaml']);
    assert.equal(instruction(runtime, 'USER').at(-1)?.args, '10001:10001');
    assert.deepEqual(instruction(runtime, 'EXPOSE')[0]!.args.split(/\s+/), ['4317', '4318', '8888']);
    const runs = instruction(runtime, 'RUN')
      .map((r) => r.args)
      .join('\n');
    assert.match(runs, /chown 10001:10001 \/var\/lib\/otel-audit/);
    assert.equal(instruction(runtime, 'WORKDIR').at(-1)?.args, '/var/lib/otel-audit');
  });

  it('matches the versions of the sidecar package and the Helm chart', () => {
    const version = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'packages/sidecar/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    assert.match(dockerfile, new RegExp(`org\\.opencontainers\\.image\\.version="${version.replace(/\./g, '\\.')}"`));
    const chart = parse(readFileSync(join(REPO_ROOT, 'helm/otel-audit/Chart.yaml'), 'utf8')) as { appVersion: string };
    assert.equal(chart.appVersion, version);
  });
});
