/**
 * Benchmark (not a test: nothing here is asserted): audit records per second through
 * OTLP/HTTP protobuf (and OTLP/gRPC) → validation → spool → file exporter (JSON Lines, fdatasync)
 * on one CPU, against two ceilings on the same CPU: a bare node:http server that only appends the
 * raw request bodies to a file, with and without fdatasync. See docs/benchmarks.md.
 *
 *   node test/dist/bench/otlp-http-file.bench.js [--duration=10] [--warmup=2] [--concurrency=8]
 *        [--records=512] [--bodies=8] [--cpu-prof=DIR] [--sidecar-node-args="--flag ..."]
 *        [--baseline=DIR[,DIR...]] [--only=id,id...] [--latency-rate=5000]
 *
 * (or BENCH_DURATION=... environment variables). For each sidecar it reports the accept rate (records
 * acknowledged per second), the end-to-end rate (records written to the audit file per second, from
 * the start of the measured window until the file caught up), both as ratios of the fdatasync
 * ceiling, CPU µs per record (the process's user + system time over that span, per record written)
 * and peak RSS. The sidecar runs with the node flags the Helm chart gives a gateway
 * (`--max-semi-space-size=64`) and again with Node's defaults, over OTLP/HTTP and OTLP/gRPC.
 * `--baseline=DIR` runs the same sidecars from another built checkout (e.g. main) in the same run,
 * for a before/after comparison (several, comma-separated: one set of rows each, named after the
 * directory). `--cpu-prof=DIR` profiles the first sidecar that runs and prints
 * its top functions by self time (profiling slows it down: do not compare those numbers).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { basename, join, resolve } from 'node:path';
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
  cpuSeconds,
  detectPinning,
  firstLine,
  lineReader,
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
  /** Built checkouts whose sidecars run as the "before" rows. */
  readonly baselines: readonly string[];
  /** Target ids to run (all when undefined). */
  readonly only: readonly string[] | undefined;
}

function readBenchOptions(): BenchOptions {
  const cpuProf = stringOption('cpu-prof');
  const baseline = stringOption('baseline');
  const only = stringOption('only');
  return {
    durationS: numberOption('duration', 10),
    latencyRate: numberOption('latency-rate', 5000, true),
    warmupS: numberOption('warmup', 2, true),
    concurrency: numberOption('concurrency', 8),
    records: numberOption('records', 512),
    bodies: numberOption('bodies', 8),
    cpuProfDir: cpuProf === undefined ? undefined : resolve(cpuProf),
    sidecarNodeArgs: sidecarNodeArgs(stringOption('sidecar-node-args'), GATEWAY_NODE_ARGS),
    baselines: (baseline ?? '')
      .split(',')
      .filter((d) => d !== '')
      .map((d) => resolve(d)),
    only: only === undefined ? undefined : only.split(',').map((s) => s.trim()),
  };
}

/** The load generator's result, and when it came. */
type TimedLoadResult = LoadResult & { readonly endedAt: number };

/** What was measured of one target besides the load generator's numbers. */
interface Measured {
  /** Records written to the audit file per second, from the window start until it caught up (ceilings: the accept rate). */
  readonly e2ePerSec: number;
  /** CPU µs of the target process per record over the same span. */
  readonly cpuMicrosPerRecord: number;
  readonly peakRssMiB: number | undefined;
  /** Seconds after the load ended until the audit file stopped growing. */
  readonly catchUpS: number;
}

interface RunningTarget {
  /** `host:port` of its OTLP endpoint. */
  readonly address: string;
  readonly pid: number;
  /** Called when the measured window starts. */
  windowStarts(): Promise<void>;
  /** Compares what the target stored with what it acknowledged (prints the outcome); returns the measurements. */
  finish(result: TimedLoadResult): Promise<Measured>;
  stop(): Promise<void>;
}

interface Target {
  /** Short name for `--only`. */
  readonly id: string;
  readonly name: string;
  /** The load generator's protocol (default http). */
  readonly protocol?: 'http' | 'grpc';
  /** gRPC connections the load generator spreads its requests over (default 1). */
  readonly grpcChannels?: number;
  start(dir: string): Promise<RunningTarget>;
}

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

interface Sample {
  readonly at: number;
  readonly bytes: number;
  readonly cpu: number;
}

async function sample(dir: string, pid: number): Promise<Sample> {
  const [bytes, cpu] = await Promise.all([auditFileBytes(dir), cpuSeconds(pid)]);
  return { at: performance.now(), bytes, cpu };
}

/**
 * The sidecar acknowledges records once they are in its spool and writes the audit file shortly
 * after, so the file may still be catching up when the load ends: polls until it has not grown
 * for 2 s and returns the sample taken when it last grew.
 */
async function waitForFileToSettle(dir: string, pid: number): Promise<Sample> {
  let last = await sample(dir, pid);
  for (;;) {
    await delay(100);
    const now = await sample(dir, pid);
    if (now.bytes !== last.bytes) last = now;
    else if (now.at - last.at >= 2000) return last;
  }
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
  console.log(`  (node test/dist/bench/profile-summary.js ${join(dir, latest)} breaks it down by stage)`);
}

/** Stops the sidecar; warns if it did not exit cleanly. */
async function stopSidecar(sidecar: SidecarProcess): Promise<void> {
  const code = await sidecar.stop();
  if (code !== 0) console.log(`  WARNING: the sidecar exited with ${code}:\n${sidecar.output.join('\n')}`);
}

/** The running sidecar as a target: the measured window, the audit file's growth and the check. */
function runningSidecar(sidecar: SidecarProcess, dir: string, address: string, cpuProfDir?: string): RunningTarget {
  const pid = sidecar.child.pid!;
  let start: Sample | undefined;
  return {
    address,
    pid,
    async windowStarts() {
      start = await sample(dir, pid);
    },
    async finish(result) {
      const end = await waitForFileToSettle(dir, pid);
      const catchUpS = Math.max(0, end.at - result.endedAt) / 1000;
      const lines = await auditFileLines(dir);
      console.log(`  the audit file caught up ${catchUpS.toFixed(1)} s after the load ended`);
      report('audit file lines vs records', lines, result.total.records);
      const peak = await peakRssMiB(pid);
      console.log(`  sidecar peak RSS: ${peak === undefined ? '?' : peak.toFixed(0)} MiB`);
      const s = start ?? end;
      // Lines differ little in length (the bodies repeat): the bytes written give the records written.
      const records = lines > 0 ? ((end.bytes - s.bytes) * lines) / end.bytes : 0;
      const seconds = (end.at - s.at) / 1000;
      return {
        e2ePerSec: seconds > 0 ? records / seconds : 0,
        cpuMicrosPerRecord: records > 0 ? ((end.cpu - s.cpu) * 1e6) / records : NaN,
        peakRssMiB: peak,
        catchUpS,
      };
    },
    async stop() {
      await stopSidecar(sidecar);
      if (cpuProfDir !== undefined) await printProfile(cpuProfDir);
    },
  };
}

interface SidecarVariant {
  readonly id: string;
  readonly name: string;
  readonly nodeArgs: readonly string[];
  readonly protocol?: 'http' | 'grpc';
  readonly grpcChannels?: number;
  /** The otel-audit CLI to run (another checkout for the "before" rows). */
  readonly cli?: string;
  readonly cpuProfDir?: string | undefined;
  readonly durable?: boolean;
  readonly chain?: boolean;
}

function otelAuditTarget(pinning: Pinning, v: SidecarVariant): Target {
  const { cpuProfDir, durable = true, chain = true, protocol = 'http' } = v;
  const exporters =
    // The load repeats the same few thousand records (and uuids): dedupe off, so that every one is written.
    `  file:\n    path: ./audit.jsonl\n    dedupe_window: 0${durable ? '' : '\n    fsync: false'}` +
    (chain ? '' : '\n    chain:\n      enabled: false');
  let config = httpConfig({ exporters, exporterIds: ['file'] });
  if (!durable) config = config.replace('    directory: ./spool', '    directory: ./spool\n    fsync: false');
  if (protocol === 'grpc') {
    config = config.replace(
      '    protocols:\n',
      '    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n        max_request_body_size: 67108864\n',
    );
  }
  return {
    id: v.id,
    name: v.name,
    protocol,
    grpcChannels: v.grpcChannels ?? 1,
    async start(dir) {
      const sidecar = await startSidecar({
        config,
        dir,
        wrapper: [...pinning.target],
        ...(v.cli === undefined ? {} : { entry: v.cli }),
        nodeArgs: [...v.nodeArgs, ...(cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`])],
      });
      return runningSidecar(sidecar, dir, sidecar.endpoints[`otlp/${protocol}`]!, cpuProfDir);
    },
  };
}

function rawAppendTarget(id: string, name: string, mode: 'append' | 'append-fdatasync', pinning: Pinning): Target {
  return {
    id,
    name,
    async start(dir) {
      const file = join(dir, 'bodies.raw');
      const child = spawnNode(pinning.target, benchScript('raw-append-server.js'), [
        `--file=${file}`,
        `--mode=${mode}`,
      ]);
      const { port } = JSON.parse(await firstLine(child)) as { port: number };
      let cpuAtStart = 0;
      return {
        address: `127.0.0.1:${port}`,
        pid: child.pid!,
        async windowStarts() {
          cpuAtStart = await cpuSeconds(child.pid!);
        },
        async finish(result) {
          const cpu = (await cpuSeconds(child.pid!)) - cpuAtStart;
          report('file bytes vs request body bytes', (await stat(file)).size, result.total.bodyBytes);
          const windowRecords = result.recordsPerSec * result.seconds;
          return {
            e2ePerSec: result.recordsPerSec,
            // Its CPU time runs to the end of the load; it does nothing after its last answer.
            cpuMicrosPerRecord: (cpu * 1e6) / Math.max(1, windowRecords),
            peakRssMiB: await peakRssMiB(child.pid),
            catchUpS: 0,
          };
        },
        stop: () => stopChild(child),
      };
    },
  };
}

async function runLoad(
  pinning: Pinning,
  options: BenchOptions,
  target: RunningTarget,
  bodiesFile: string,
  rate = 0,
  protocol = 'http',
  grpcChannels = 1,
): Promise<TimedLoadResult> {
  const child = spawnNode(pinning.load, benchScript('load-generator.js'), [
    `--target=${target.address}`,
    `--bodies=${bodiesFile}`,
    `--records=${options.records}`,
    `--concurrency=${rate > 0 ? 64 : options.concurrency}`,
    `--warmup=${options.warmupS}`,
    `--duration=${options.durationS}`,
    `--rate=${rate}`,
    `--protocol=${protocol}`,
    `--grpc-channels=${grpcChannels}`,
  ]);
  const nextLine = lineReader(child);
  for (;;) {
    const message = JSON.parse(await nextLine()) as LoadResult | { event: string };
    if ('event' in message) {
      if (message.event === 'measuring') await target.windowStarts();
      continue;
    }
    return { ...message, endedAt: performance.now() };
  }
}

interface Row {
  readonly target: Target;
  readonly result: TimedLoadResult;
  readonly measured: Measured;
}

/** Runs the load against one target in its own directory, then removes what it wrote. */
async function measure(
  target: Target,
  dir: string,
  pinning: Pinning,
  options: BenchOptions,
  bodiesFile: string,
  rate = 0,
): Promise<Row> {
  console.log(`\n${target.name}${rate > 0 ? `, paced at ${rate.toLocaleString('en-US')} records/s` : ''}`);
  await mkdir(dir);
  const running = await target.start(dir);
  try {
    const result = await runLoad(pinning, options, running, bodiesFile, rate, target.protocol, target.grpcChannels);
    if (Object.keys(result.failures).length > 0) {
      console.log(`  WARNING: unsuccessful requests (outcome: count): ${JSON.stringify(result.failures)}`);
    }
    const measured = await running.finish(result);
    return { target, result, measured };
  } finally {
    await running.stop();
    await rm(dir, { recursive: true, force: true });
    // Let no dirty page cache of this target be written back while the next one is measured.
    spawnSync('sync');
  }
}

function formatRow(cells: readonly string[]): string {
  const widths = [52, 10, 10, 7, 7, 8, 9, 7, 7];
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
    .join(' ')
    .trimEnd();
}

const CEILING = 'ceiling';

function printTable(rows: readonly Row[]): void {
  const ceiling = rows.find((r) => r.target.id === CEILING)?.result.recordsPerSec;
  const ratio = (n: number) => (ceiling === undefined ? '' : (n / ceiling).toFixed(2));
  console.log(
    `\n${formatRow(['target', 'accept/s', 'e2e/s', 'acc/cl', 'e2e/cl', 'CPU µs', 'peak RSS', 'p50 ms', 'p99 ms'])}`,
  );
  for (const { target, result: r, measured: m } of rows) {
    console.log(
      formatRow([
        target.name,
        Math.round(r.recordsPerSec).toLocaleString('en-US'),
        Math.round(m.e2ePerSec).toLocaleString('en-US'),
        ratio(r.recordsPerSec),
        ratio(m.e2ePerSec),
        m.cpuMicrosPerRecord.toFixed(1),
        m.peakRssMiB === undefined ? '' : `${m.peakRssMiB.toFixed(0)} MiB`,
        r.p50Ms.toFixed(1),
        r.p99Ms.toFixed(1),
      ]),
    );
  }
  console.log(
    'accept/s: records acknowledged per second in the measured window. e2e/s: records written to the audit file per\n' +
      'second, from the start of the window until the file caught up. acc/cl, e2e/cl: those rates divided by the\n' +
      'records/s of the raw append + fdatasync ceiling. CPU µs: user + system CPU time of the server process per\n' +
      'record over the same span (per record written to the file; for the ceilings, per record acknowledged).',
  );
  const http = rows.find((r) => r.target.id === 'http');
  for (const [id, what] of [
    ['grpc', 'one connection'],
    ['grpc-conns', 'one connection per request in flight, as HTTP'],
  ] as const) {
    const grpc = rows.find((r) => r.target.id === id);
    if (http === undefined || grpc === undefined) continue;
    console.log(
      `gRPC (${what}) vs HTTP: accept ${(grpc.result.recordsPerSec / http.result.recordsPerSec).toFixed(2)}, ` +
        `end to end ${(grpc.measured.e2ePerSec / http.measured.e2ePerSec).toFixed(2)}, CPU per record ` +
        (grpc.measured.cpuMicrosPerRecord / http.measured.cpuMicrosPerRecord).toFixed(2),
    );
  }
}

function printSetup(options: BenchOptions, pinning: Pinning, sizes: readonly number[], attributes: number): void {
  const meanKb = sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024;
  console.log('OTLP protobuf → spool → file, one CPU for the server');
  console.log(
    `  machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
  );
  console.log(`  pinning: ${pinning.description}`);
  console.log(
    `  sidecar node flags: ${options.sidecarNodeArgs.join(' ') || "(none: Node's defaults)"}` +
      (options.sidecarNodeArgs === GATEWAY_NODE_ARGS ? " (the Helm chart's gateway default)" : ''),
  );
  for (const [i, dir] of options.baselines.entries())
    console.log(`  ${baselineLabel(options, i)}: the sidecar of ${dir}`);
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

/** `before` for a single baseline; the directory's name for several. */
function baselineLabel(options: BenchOptions, i: number): string {
  return options.baselines.length === 1 ? 'before' : basename(options.baselines[i]!);
}

function targets(options: BenchOptions, pinning: Pinning): Target[] {
  const gateway = options.sidecarNodeArgs;
  const flags = gateway.length === 0 ? "Node's defaults" : 'gateway flags';
  const sidecars = (prefix: string, idPrefix: string, cli?: string): SidecarVariant[] => [
    { id: `${idPrefix}http`, name: `${prefix}OTLP/HTTP → spool → file, ${flags}`, nodeArgs: gateway, cli },
    ...(gateway.length === 0
      ? []
      : [
          {
            id: `${idPrefix}http-defaults`,
            name: `${prefix}OTLP/HTTP → spool → file, Node's defaults`,
            nodeArgs: [],
            cli,
          },
        ]),
    {
      id: `${idPrefix}grpc`,
      name: `${prefix}OTLP/gRPC → spool → file, ${flags}`,
      nodeArgs: gateway,
      protocol: 'grpc',
      cli,
    },
    {
      id: `${idPrefix}grpc-conns`,
      name: `${prefix}OTLP/gRPC, ${options.concurrency} connections, ${flags}`,
      nodeArgs: gateway,
      protocol: 'grpc',
      grpcChannels: options.concurrency,
      cli,
    },
    ...(gateway.length === 0
      ? []
      : [
          {
            id: `${idPrefix}grpc-defaults`,
            name: `${prefix}OTLP/gRPC → spool → file, Node's defaults`,
            nodeArgs: [],
            protocol: 'grpc' as const,
            cli,
          },
        ]),
  ];
  const variants: SidecarVariant[] = [
    ...sidecars('otel-audit: ', ''),
    { id: 'no-chain', name: 'otel-audit: HTTP, file chain off', nodeArgs: gateway, chain: false },
    { id: 'no-fsync', name: 'otel-audit: HTTP, no fsync (spool and file)', nodeArgs: gateway, durable: false },
    ...options.baselines.flatMap((dir, i) => {
      const label = baselineLabel(options, i);
      return sidecars(`${label}: `, `${label}-`, join(dir, 'packages/sidecar/dist/src/cli/main.js'));
    }),
  ].filter((v) => options.only === undefined || options.only.includes(v.id));
  // --cpu-prof: the first sidecar that runs.
  if (variants.length > 0) variants[0] = { ...variants[0]!, cpuProfDir: options.cpuProfDir };
  const ceilings = [
    rawAppendTarget(CEILING, 'ceiling: raw append + fdatasync (group commit)', 'append-fdatasync', pinning),
    rawAppendTarget('ceiling-no-fsync', 'ceiling: raw append, no fsync', 'append', pinning),
  ].filter((t) => options.only === undefined || options.only.includes(t.id));
  return [...variants.map((v) => otelAuditTarget(pinning, v)), ...ceilings];
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
    const rows: Row[] = [];
    for (const [i, target] of targets(options, pinning).entries()) {
      rows.push(await measure(target, join(work.dir, `target-${i}`), pinning, options, bodiesFile));
    }
    printTable(rows);
    if (options.latencyRate > 0) {
      const target = otelAuditTarget(pinning, {
        id: 'latency',
        name: 'otel-audit: OTLP/HTTP',
        nodeArgs: options.sidecarNodeArgs,
      });
      const paced = await measure(target, join(work.dir, 'latency'), pinning, options, bodiesFile, options.latencyRate);
      console.log(
        `\nlatency at ${options.latencyRate.toLocaleString('en-US')} records/s (${options.records}-record requests, ` +
          `${(options.latencyRate / options.records).toFixed(1)} requests/s, durable): ` +
          `p50 ${paced.result.p50Ms.toFixed(1)} ms, p99 ${paced.result.p99Ms.toFixed(1)} ms over ${paced.result.requests} requests`,
      );
    }
  } finally {
    await work.cleanup();
  }
}

await main();
