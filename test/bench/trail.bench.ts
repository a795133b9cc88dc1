/**
 * Benchmark (nothing asserted) of the audit trail: the file exporter's throughput with the hash
 * chain and checkpoints on and off, and `otel-audit query --user` / `report counts --by day` over a
 * trail of 1,000,000 records.
 *
 * The records are synthetic local records of the six event types (test/support/trail-fixture.ts:
 * one every 7 minutes, 5,000 users, 20 tenants, 100,000 data subjects; about 560 B a line with the
 * chain), written by the file exporter itself (chain on, default rotation at 100 MiB) into a
 * temporary directory, so the query scans the rotated files as the sidecar leaves them. The files
 * are in the page cache when queried (just written). Each CLI run is timed from spawn to exit.
 *
 *   node test/dist/bench/trail.bench.js [--records=1000000] [--exporter-records=200000] [--runs=3] [--query=1]
 */
import { spawnSync } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileExporter, createLogger } from '@otel-audit/sidecar';
import { SIDECAR_CLI } from '../support/paths.js';
import { tempDir } from '../support/tmp.js';
import { fileExporterConfig, spooled, trailRecords } from '../support/trail-fixture.js';
import { numberOption } from './bench-args.js';

const RECORDS = numberOption('records', 1_000_000);
const EXPORTER_RECORDS = numberOption('exporter-records', 200_000);
const RUNS = numberOption('runs', 3);
const QUERY = numberOption('query', 1, true) > 0;
const BATCH = 1024;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function exporterRun(dir: string, chain: boolean, fsync: boolean, n: number): Promise<number> {
  const records = spooled(trailRecords(n));
  const config = fileExporterConfig(join(dir, `audit-${chain}-${fsync}-${Date.now()}.jsonl`), {
    fsync,
    rotation: { max_megabytes: 100, max_backups: 0, max_days: 0, localtime: false },
    chain: { enabled: chain, checkpoint_interval: '5m' },
  });
  const e = new FileExporter('file', config, createLogger('silent'));
  await e.start();
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += BATCH) await e.export(records.slice(i, i + BATCH));
  const seconds = (performance.now() - t0) / 1000;
  await e.shutdown();
  return n / seconds;
}

function timeCli(args: string[]): { seconds: number; lines: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [SIDECAR_CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`otel-audit ${args.join(' ')}: ${r.stderr}`);
  return { seconds, lines: r.stdout.split('\n').filter((l) => l !== '').length };
}

async function main(): Promise<void> {
  const { dir, cleanup } = await tempDir('otel-audit-trail-bench-');
  try {
    console.log(`file exporter, ${EXPORTER_RECORDS} records in batches of ${BATCH}, ${RUNS} runs each (median):`);
    for (const fsync of [false, true]) {
      const rates: Record<string, number[]> = { off: [], on: [] };
      for (let run = 0; run < RUNS; run++) {
        for (const chain of [false, true])
          rates[chain ? 'on' : 'off']!.push(await exporterRun(dir, chain, fsync, EXPORTER_RECORDS));
      }
      const off = median(rates['off']!);
      const on = median(rates['on']!);
      console.log(
        `  fsync ${fsync ? 'on ' : 'off'}: chain off ${Math.round(off)} records/s, chain on ${Math.round(on)} records/s (${(((on - off) / off) * 100).toFixed(1)}%)`,
      );
    }
    if (!QUERY) return;
    const trail = join(dir, 'query');
    const path = join(trail, 'audit.jsonl');
    const e = new FileExporter(
      'file',
      fileExporterConfig(path, { rotation: { max_megabytes: 100, max_backups: 0, max_days: 0, localtime: false } }),
      createLogger('silent'),
    );
    await e.start();
    const chunk = 100_000;
    for (let done = 0; done < RECORDS; done += chunk) {
      const records = spooled(
        trailRecords(Math.min(chunk, RECORDS - done), { users: 5000, tenants: 20, subjects: 100_000 }),
      );
      for (let i = 0; i < records.length; i += BATCH) await e.export(records.slice(i, i + BATCH));
    }
    await e.shutdown();
    const files = (await readdir(trail)).filter((n) => n.endsWith('.jsonl'));
    let bytes = 0;
    for (const f of files) bytes += (await stat(join(trail, f))).size;
    console.log(`trail: ${RECORDS} records, ${(bytes / 1024 / 1024).toFixed(0)} MiB in ${files.length} files`);
    const cases: [string, string[]][] = [
      ['query --user user-42 --format json', ['query', '--path', trail, '--user', 'user-42', '--format', 'json']],
      [
        'report counts --by day --format json',
        ['report', 'counts', '--by', 'day', '--path', trail, '--format', 'json'],
      ],
      ['verify', ['verify', '--path', trail]],
    ];
    for (const [name, args] of cases) {
      const runs = Array.from({ length: RUNS }, () => timeCli(args));
      console.log(
        `  otel-audit ${name}: ${median(runs.map((r) => r.seconds)).toFixed(2)} s (median of ${RUNS}; ${runs[0]!.lines} lines out)`,
      );
    }
  } finally {
    await cleanup();
  }
}

await main();
