/**
 * Benchmark (not a test: nothing here is asserted): audit records per second through
 * OTLP/HTTP protobuf → validation → file exporter (JSON Lines, fdatasync) on one CPU, against
 * two ceilings on the same CPU: a bare node:http server that only appends the raw request bodies
 * to a file, without and with fdatasync. See docs/benchmarks.md.
 *
 *   node test/dist/bench/otlp-http-file.bench.js [--duration=10] [--warmup=2] [--concurrency=8]
 *        [--records=512] [--bodies=8] [--cpu-prof=DIR] [--sidecar-node-args="--flag ..."]
 *
 * (or BENCH_DURATION=... environment variables). `--cpu-prof=DIR` profiles the sidecar and
 * prints its top functions by self time; profiling slows it down, so do not compare those numbers.
 * The sidecar runs with the node flags the Helm chart gives a gateway (`--max-semi-space-size=64`);
 * one more row shows it with Node's defaults (as the image runs it elsewhere, e.g. as a sidecar).
 * `--sidecar-node-args="..."` replaces those flags (`""`: Node's defaults, and no extra row).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { httpConfig, GATEWAY_NODE_ARGS, startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { buildRequestBodies } from './audit-bodies.js';
import { numberOption, stringOption } from './bench-args.js';
import { writeBodiesFile } from './bodies-file.js';
import { topSelfTime } from './cpu-profile.js';
import type { LoadResult } from './load-generator.js';
import {
  benchScript,
  detectPinning,
  firstLine,
  peakRssMiB,
  sidecarNodeArgs,
  spawnNode,
  stopChild,
  type Pinning,
} from './processes.js';

interface BenchOptions {
  readonly durationS: number;
  /** Records/s of the paced latency run (0 skips it). */
  readonly latencyRate: number;
  readonly warmupS: number;
  readonly concurrency: number;
  readonly records: number;
  readonly bodies: number;
  readonly cpuProfDir: string | undefined;
  readonly sidecarNodeArgs: readonly string[];
}

function readBenchOptions(): BenchOptions {
  const cpuProf = stringOption('cpu-prof');
  return {
    durationS: numberOption('duration', 10),
    latencyRate: numberOption('latency-rate', 5000, true),
    warmupS: numberOption('warmup', 2, true),
    concurrency: numberOption('concurrency', 8),
    records: numberOption('records', 512),
    bodies: numberOption('bodies', 8),
    cpuProfDir: cpuProf === undefined ? undefined : resolve(cpuProf),
    sidecarNodeArgs: sidecarNodeArgs(stringOption('sidecar-node-args'), GATEWAY_NODE_ARGS),
  };
}

interface RunningTarget {
  /** `host:port` of its OTLP/HTTP endpoint. */
  readonly address: string;
  /** Compares what the target stored with what it acknowledged; prints the outcome. */
  verify(result: LoadResult): Promise<void>;
  stop(): Promise<void>;
}

interface Target {
  readonly name: string;
  /** The load generator's protocol (default http). */
  readonly protocol?: 'http' | 'grpc';
  start(dir: string): Promise<RunningTarget>;
}

const OTEL_AUDIT = 'otel-audit: OTLP/HTTP → spool → file exporter';
const OTEL_AUDIT_NODE_DEFAULTS = "otel-audit, Node's default GC settings";
const OTEL_AUDIT_NO_FSYNC = 'otel-audit, no fsync (spool and file)';
const OTEL_AUDIT_NO_CHAIN = 'otel-audit: the same with the file chain off';
const OTEL_AUDIT_GRPC = 'otel-audit: OTLP/gRPC → spool → file exporter';

function report(what: string, stored: number, acknowledged: number): void {
  if (stored === acknowledged) {
    console.log(`  check: ${what}: ${stored} stored = ${acknowledged} acknowledged`);
    return;
  }
  console.log(`\n  ${'!'.repeat(78)}`);
  console.log(`  WARNING: ${what}: ${stored} stored but ${acknowledged} acknowledged. These numbers are suspect.`);
  console.log(`  ${'!'.repeat(78)}\n`);
}

async function countNewlines(file: string): Promise<number> {
  let count = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
  }
  return count;
}

/** `audit.jsonl` and its rotated siblings (`audit-<time>.jsonl`). */
async function auditFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /^audit.*\.jsonl$/.test(n)).map((n) => join(dir, n));
}

async function auditFileLines(dir: string): Promise<number> {
  let lines = 0;
  for (const file of await auditFiles(dir)) lines += await countNewlines(file);
  return lines;
}

async function auditFileBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const file of await auditFiles(dir)) bytes += (await stat(file)).size;
  return bytes;
}

/**
 * If the sidecar acknowledges records before they reach the file (e.g. once they are spooled),
 * the file may still be catching up when the load ends: wait until it stops growing for 3 s.
 * Returns how long after the load it last grew, in seconds.
 */
async function waitForFileToSettle(dir: string): Promise<number> {
  const start = performance.now();
  let lastGrowth = start;
  let bytes = await auditFileBytes(dir);
  while (performance.now() - lastGrowth < 3000) {
    await delay(250);
    const now = await auditFileBytes(dir);
    if (now !== bytes) lastGrowth = performance.now();
    bytes = now;
  }
  return (lastGrowth - start) / 1000;
}

async function verifyAuditFile(dir: string, acknowledged: number): Promise<void> {
  let lines = await auditFileLines(dir);
  if (lines < acknowledged) {
    const lag = await waitForFileToSettle(dir);
    console.log(`  the audit file was still growing after the load ended; it caught up ${lag.toFixed(1)} s later`);
    lines = await auditFileLines(dir);
  }
  report('audit file lines vs records', lines, acknowledged);
}

async function printProfile(dir: string): Promise<void> {
  const profiles = (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile')).sort();
  const latest = profiles.at(-1);
  if (latest === undefined) {
    console.log(`  no .cpuprofile was written to ${dir}`);
    return;
  }
  console.log(`  sidecar CPU profile ${join(dir, latest)}: top 15 functions by self time`);
  for (const f of await topSelfTime(join(dir, latest), 15)) {
    console.log(`    ${f.ms.toFixed(0).padStart(7)} ms ${f.percent.toFixed(1).padStart(5)} %  ${f.fn}`);
  }
}

/** Stops the sidecar after printing its peak memory; warns if it did not exit cleanly. */
async function stopSidecar(sidecar: SidecarProcess): Promise<void> {
  const peak = await peakRssMiB(sidecar.child.pid);
  if (peak !== undefined) console.log(`  sidecar peak RSS: ${peak.toFixed(0)} MiB`);
  const code = await sidecar.stop();
  if (code !== 0) console.log(`  WARNING: the sidecar exited with ${code}:\n${sidecar.output.join('\n')}`);
}

function otelAuditTarget(
  pinning: Pinning,
  options: {
    name: string;
    nodeArgs: readonly string[];
    cpuProfDir?: string | undefined;
    durable?: boolean;
    chain?: boolean;
  },
): Target {
  const { cpuProfDir, durable = true, chain = true } = options;
  const exporters =
    // The load repeats the same few thousand records (and uuids): dedupe off, so that every one is written.
    `  file:\n    path: ./audit.jsonl\n    dedupe_window: 0${durable ? '' : '\n    fsync: false'}` +
    (chain ? '' : '\n    chain:\n      enabled: false');
  const config = httpConfig({ exporters, exporterIds: ['file'] });
  return {
    name: options.name,
    async start(dir) {
      const sidecar = await startSidecar({
        config: durable ? config : config.replace('    directory: ./spool', '    directory: ./spool\n    fsync: false'),
        dir,
        wrapper: [...pinning.target],
        nodeArgs: [
          ...options.nodeArgs,
          ...(cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`]),
        ],
      });
      return {
        address: sidecar.endpoints['otlp/http']!,
        verify: (result) => verifyAuditFile(dir, result.total.records),
        async stop() {
          await stopSidecar(sidecar);
          if (cpuProfDir !== undefined) await printProfile(cpuProfDir);
        },
      };
    },
  };
}

function otelAuditGrpcTarget(pinning: Pinning, nodeArgs: readonly string[]): Target {
  const config = httpConfig({
    exporters: '  file:\n    path: ./audit.jsonl\n    dedupe_window: 0',
    exporterIds: ['file'],
  }).replace(
    '    protocols:\n',
    '    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n        max_request_body_size: 67108864\n',
  );
  return {
    name: OTEL_AUDIT_GRPC,
    protocol: 'grpc',
    async start(dir) {
      const sidecar = await startSidecar({ config, dir, wrapper: [...pinning.target], nodeArgs: [...nodeArgs] });
      return {
        address: sidecar.endpoints['otlp/grpc']!,
        verify: (result) => verifyAuditFile(dir, result.total.records),
        stop: () => stopSidecar(sidecar),
      };
    },
  };
}

function rawAppendTarget(name: string, mode: 'append' | 'append-fdatasync', pinning: Pinning): Target {
  return {
    name,
    async start(dir) {
      const file = join(dir, 'bodies.raw');
      const child = spawnNode(pinning.target, benchScript('raw-append-server.js'), [
        `--file=${file}`,
        `--mode=${mode}`,
      ]);
      const { port } = JSON.parse(await firstLine(child)) as { port: number };
      return {
        address: `127.0.0.1:${port}`,
        async verify(result) {
          report('file bytes vs request body bytes', (await stat(file)).size, result.total.bodyBytes);
        },
        stop: () => stopChild(child),
      };
    },
  };
}

async function runLoad(
  pinning: Pinning,
  options: BenchOptions,
  address: string,
  bodiesFile: string,
  rate = 0,
  protocol = 'http',
) {
  const child = spawnNode(pinning.load, benchScript('load-generator.js'), [
    `--target=${address}`,
    `--bodies=${bodiesFile}`,
    `--records=${options.records}`,
    `--concurrency=${rate > 0 ? 64 : options.concurrency}`,
    `--warmup=${options.warmupS}`,
    `--duration=${options.durationS}`,
    `--rate=${rate}`,
    `--protocol=${protocol}`,
  ]);
  return JSON.parse(await firstLine(child)) as LoadResult;
}

/** Runs the load against one target in its own directory, then removes what it wrote. */
async function measure(
  target: Target,
  dir: string,
  pinning: Pinning,
  options: BenchOptions,
  bodiesFile: string,
  rate = 0,
) {
  console.log(`\n${target.name}${rate > 0 ? `, paced at ${rate.toLocaleString('en-US')} records/s` : ''}`);
  await mkdir(dir);
  const running = await target.start(dir);
  try {
    const result = await runLoad(pinning, options, running.address, bodiesFile, rate, target.protocol);
    if (Object.keys(result.failures).length > 0) {
      console.log(`  WARNING: unsuccessful requests (outcome: count): ${JSON.stringify(result.failures)}`);
    }
    await running.verify(result);
    return result;
  } finally {
    await running.stop();
    await rm(dir, { recursive: true, force: true });
    // Let no dirty page cache of this target be written back while the next one is measured.
    spawnSync('sync');
  }
}

function formatRow(cells: readonly string[]): string {
  const widths = [50, 12, 11, 8, 8, 8, 17];
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
    .join(' ')
    .trimEnd();
}

function printTable(rows: readonly { name: string; result: LoadResult }[]): void {
  const ours = rows.find((r) => r.name === OTEL_AUDIT)?.result.recordsPerSec;
  console.log(`\n${formatRow(['target', 'records/s', 'requests/s', 'p50 ms', 'p99 ms', 'MB/s', 'otel-audit/this'])}`);
  for (const { name, result: r } of rows) {
    const ratio = ours === undefined || name === OTEL_AUDIT ? '' : (ours / r.recordsPerSec).toFixed(2);
    console.log(
      formatRow([
        name,
        Math.round(r.recordsPerSec).toLocaleString('en-US'),
        r.requestsPerSec.toFixed(1),
        r.p50Ms.toFixed(1),
        r.p99Ms.toFixed(1),
        r.mbPerSec.toFixed(1),
        ratio,
      ]),
    );
  }
  console.log('MB/s: request body bytes (10^6) per second. otel-audit/this: ratio of records/s.');
}

function printSetup(options: BenchOptions, pinning: Pinning, sizes: readonly number[], attributes: number): void {
  const meanKb = sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024;
  console.log('OTLP/HTTP protobuf → file, one CPU for the server');
  console.log(
    `  machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
  );
  console.log(`  pinning: ${pinning.description}`);
  console.log(
    `  sidecar node flags: ${options.sidecarNodeArgs.join(' ') || "(none: Node's defaults)"}` +
      (options.sidecarNodeArgs === GATEWAY_NODE_ARGS ? " (the Helm chart's gateway default)" : ''),
  );
  console.log(
    `  requests: ${options.bodies} distinct bodies x ${options.records} records ` +
      `(mean ${meanKb.toFixed(1)} KiB/body, ${attributes.toFixed(1)} attributes/record), ` +
      `encoded by @opentelemetry/otlp-transformer`,
  );
  console.log(
    `  load: ${options.concurrency} requests in flight (keep-alive), ` +
      `${options.warmupS} s warm-up, ${options.durationS} s measured`,
  );
}

async function main(): Promise<void> {
  const options = readBenchOptions();
  const pinning = detectPinning();
  const work = await tempDir('otel-audit-bench-');
  try {
    const { bodies, attributesPerRecord } = buildRequestBodies(options.bodies, options.records);
    const bodiesFile = join(work.dir, 'bodies.bin');
    await writeBodiesFile(bodiesFile, bodies);
    printSetup(
      options,
      pinning,
      bodies.map((b) => b.length),
      attributesPerRecord,
    );
    const targets = [
      otelAuditTarget(pinning, { name: OTEL_AUDIT, nodeArgs: options.sidecarNodeArgs, cpuProfDir: options.cpuProfDir }),
      ...(options.sidecarNodeArgs.length === 0
        ? []
        : [otelAuditTarget(pinning, { name: OTEL_AUDIT_NODE_DEFAULTS, nodeArgs: [] })]),
      otelAuditTarget(pinning, { name: OTEL_AUDIT_NO_CHAIN, nodeArgs: options.sidecarNodeArgs, chain: false }),
      otelAuditTarget(pinning, { name: OTEL_AUDIT_NO_FSYNC, nodeArgs: options.sidecarNodeArgs, durable: false }),
      otelAuditGrpcTarget(pinning, options.sidecarNodeArgs),
      rawAppendTarget('ceiling: raw append + fdatasync (group commit)', 'append-fdatasync', pinning),
      rawAppendTarget('ceiling: raw append, no fsync', 'append', pinning),
    ];
    const rows: { name: string; result: LoadResult }[] = [];
    for (const [i, target] of targets.entries()) {
      const result = await measure(target, join(work.dir, `target-${i}`), pinning, options, bodiesFile);
      rows.push({ name: target.name, result });
    }
    printTable(rows);
    if (options.latencyRate > 0) {
      const target = otelAuditTarget(pinning, { name: OTEL_AUDIT, nodeArgs: options.sidecarNodeArgs });
      const paced = await measure(target, join(work.dir, 'latency'), pinning, options, bodiesFile, options.latencyRate);
      console.log(
        `\nlatency at ${options.latencyRate.toLocaleString('en-US')} records/s (${options.records}-record requests, ` +
          `${(options.latencyRate / options.records).toFixed(1)} requests/s, durable): ` +
          `p50 ${paced.p50Ms.toFixed(1)} ms, p99 ${paced.p99Ms.toFixed(1)} ms over ${paced.requests} requests`,
      );
    }
  } finally {
    await work.cleanup();
  }
}

await main();
