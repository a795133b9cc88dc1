#!/usr/bin/env node
// Runs the compiled benchmarks (test/dist/bench/*.bench.js) one after another.
// Usage: node scripts/run-bench.mjs [substring-filter ...] [--option=value ...]
// Arguments starting with `--` are passed to every benchmark (e.g. --duration=5); the others
// select benchmarks whose file name contains them. See docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = join(root, 'test/dist/bench');

const args = process.argv.slice(2);
const benchArgs = args.filter((a) => a.startsWith('--'));
const filters = args.filter((a) => !a.startsWith('--'));

let names;
try {
  names = readdirSync(benchDir).filter((n) => n.endsWith('.bench.js'));
} catch {
  names = [];
}
const selected = names.filter((n) => filters.length === 0 || filters.some((f) => n.includes(f))).sort();
if (selected.length === 0) {
  console.error(
    names.length === 0
      ? 'no benchmarks found: run `npm run build` first'
      : `no benchmark matches ${filters.join(', ')}`,
  );
  process.exit(1);
}

let failed = false;
for (const name of selected) {
  console.log(`\n=== ${name}`);
  const result = spawnSync(process.execPath, [join(benchDir, name), ...benchArgs], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${name} failed (${result.status ?? result.signal})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
