#!/usr/bin/env node
// Runs every compiled test file with Node's built-in test runner.
// Usage: node scripts/run-tests.mjs [--faults] [substring-filter ...]
// --faults runs the slow fault suites (*.faults.js, e.g. memory bombs under a memory cgroup) instead.
// Every test without a timeout of its own gets OTEL_AUDIT_TEST_TIMEOUT_MS (default 60 s).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['packages/semconv/dist/test', 'packages/sdk/dist/test', 'packages/sidecar/dist/test', 'test/dist'];

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'bench') walk(p, out);
    } else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const faults = process.argv.includes('--faults');
const suffix = faults ? '.faults.js' : '.test.js';
const filters = process.argv.slice(2).filter((a) => a !== '--faults');
const files = roots
  .flatMap((r) => walk(join(root, r), []))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const reporter = process.env.CI ? ['--test-reporter=spec'] : [];

const timeoutMs = Number(process.env.OTEL_AUDIT_TEST_TIMEOUT_MS ?? 60_000);
const [major, minor] = process.versions.node.split('.').map(Number);
// Node 24 applies --test-timeout to each test; Node 20 and 22 apply it to each file's process as a
// whole, so there a preload gives each test the default instead (see default-test-timeout.mjs).
const timeout =
  major >= 24
    ? [`--test-timeout=${timeoutMs}`]
    : [`--import=${pathToFileURL(join(root, 'scripts/default-test-timeout.mjs')).href}`];
// A test file's process exits once its tests and their cleanups are done, even if a timed-out test
// left a promise pending (Node 20.14+).
const forceExit = major > 20 || (major === 20 && minor >= 14) ? ['--test-force-exit'] : [];

const result = spawnSync(process.execPath, ['--test', ...timeout, ...forceExit, ...reporter, ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, OTEL_AUDIT_TEST_TIMEOUT_MS: String(timeoutMs) },
});
process.exit(result.status ?? 1);
