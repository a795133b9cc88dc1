/**
 * Benchmark (not a test: nothing here is asserted): issue 16's memory-hostile requests against a
 * sidecar in a memory cgroup of `--limit-mib` (default 256, the chart's sidecar limit), one fresh
 * sidecar per request kind, with valid senders going on meanwhile. Prints, per kind, how the
 * requests were answered, whether the sidecar survived and its peak RSS. Needs root and cgroup v1
 * (see test/support/memory-cgroup.ts).
 *
 *   node test/dist/bench/intake-memory.bench.js [--limit-mib=256] [--only=json-20MiB,...]
 *        [--sidecar=PATH/TO/cli/main.js]
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createMemoryCgroup, memoryCgroupUnavailable } from '../support/memory-cgroup.js';
import { startSidecar } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { memoryTestConfig, runScenario, SCENARIOS, writtenUuids, type Answer } from '../fault/memory-scenarios.js';
import { numberOption, stringOption } from './bench-args.js';

function summarize(answers: readonly Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n}×${s}`).join(' ');
}

async function main(): Promise<void> {
  const why = await memoryCgroupUnavailable();
  if (why !== undefined) {
    console.log(`skipped: ${why}`);
    return;
  }
  const limitMiB = numberOption('limit-mib', 256);
  const only = stringOption('only')?.split(',');
  const entry = stringOption('sidecar');
  console.log(`memory limit ${limitMiB} MiB; sidecar ${entry ?? 'this build'}; Node ${process.version}`);
  console.log('| request | answers | sidecar | peak RSS | valid requests meanwhile | acknowledged records delivered |');
  console.log('|---|---|---|--:|---|---|');
  for (const name of SCENARIOS) {
    if (only !== undefined && !only.includes(name)) continue;
    const { dir, cleanup } = await tempDir();
    const cgroup = await createMemoryCgroup('otel-audit-bench', limitMiB * 1024 * 1024);
    const sidecar = await startSidecar({
      dir,
      config: memoryTestConfig(),
      wrapper: cgroup.wrapper,
      startTimeoutMs: 30_000,
      ...(entry === undefined ? {} : { entry }),
    }).catch(async (err: unknown) => {
      await cgroup.remove();
      await cleanup();
      throw err;
    });
    try {
      const o = await runScenario(name, sidecar, cgroup);
      let delivered = 'n/a (died)';
      if (o.died === undefined) {
        const deadline = Date.now() + 60_000;
        let written = await writtenUuids(dir);
        while (o.acknowledged.some((u) => !written.has(u)) && Date.now() < deadline) {
          await delay(250);
          written = await writtenUuids(dir);
        }
        delivered = `${o.acknowledged.filter((u) => written.has(u)).length} of ${o.acknowledged.length}`;
      }
      const state = o.died === undefined ? 'alive' : `died (${o.died}; OOM kills ${o.oomKills})`;
      const peak = o.peakRssMiB === undefined ? `≥ ${limitMiB} MiB` : `${o.peakRssMiB.toFixed(0)} MiB`;
      const valid = `${o.validSent - o.validFailures.length}/${o.validSent} ok${o.validFailures.length ? ` (${summarize(o.validFailures)})` : ''}`;
      console.log(`| ${name} | ${summarize(o.answers)} | ${state} | ${peak} | ${valid} | ${delivered} |`);
      const detail = o.answers.find((a) => a.status !== '200' && a.status !== 'OK');
      if (detail?.body)
        console.log(`    e.g. ${detail.status}: ${detail.body.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 200)}`);
    } finally {
      await sidecar.kill();
      await cgroup.remove();
      await cleanup();
    }
  }
}

await main();
