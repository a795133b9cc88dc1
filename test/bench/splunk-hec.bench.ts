/**
 * Benchmark (nothing asserted): events/s the sidecar's splunk_hec exporter delivers on one CPU to
 * the HEC test server, without and with indexer acknowledgement, next to the `splunk-logging` npm
 * client sending the same events to the same server in the same run.
 *
 * The spool is filled once while the server answers 503 (code 9); each run then starts a sidecar
 * on a copy of it and measures how fast it drains: from the first event the server indexes to
 * the last. `splunk-logging` gets the same events (the local records the sidecar wrote to its
 * file exporter during the fill) and metadata. The measured process runs on CPU 0, this process
 * (the HEC server) on CPU 1.
 *
 *   node test/dist/bench/splunk-hec.bench.js [--records=200000] [--runs=3] [--variants=0,3] [--cpu-prof=DIR]
 *
 * `--variants` picks sidecar variants by number (see VARIANTS); `--cpu-prof=DIR` profiles the first
 * run of the first variant and prints its top functions by self time.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, open, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { postOtlpProtobuf } from '../support/otlp-http.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { SplunkHecServer } from '../support/splunk-hec-server.js';
import { tempDir } from '../support/tmp.js';
import { buildRequestBodies } from './audit-bodies.js';
import { numberOption, stringOption } from './bench-args.js';
import { topSelfTime } from './cpu-profile.js';
import { benchScript, cpuSeconds, detectPinning, firstLine, spawnNode, stopChild, type Pinning } from './processes.js';

const TOKEN = '9d2c1f7e-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
const ACK_TOKEN = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const RECORDS_PER_BODY = 512;

interface Variant {
  readonly name: string;
  /** Extra keys of the splunk_hec exporter. */
  readonly yaml: string;
  readonly token: string;
  /** How long the server takes to acknowledge (with ack). */
  readonly ackDelayMs?: number;
}

const VARIANTS: readonly Variant[] = [
  { name: 'otel-audit splunk_hec, gzip level 1 (default), no ack', yaml: '', token: TOKEN },
  { name: 'otel-audit splunk_hec, no compression, no ack', yaml: '    disable_compression: true\n', token: TOKEN },
  { name: 'otel-audit splunk_hec, gzip level 6, no ack', yaml: '    compression_level: 6\n', token: TOKEN },
  {
    name: 'otel-audit splunk_hec, gzip level 1, ack at once',
    yaml: '    ack: true\n    ack_poll_interval: 100ms\n    sending_queue:\n      num_consumers: 32\n',
    token: ACK_TOKEN,
  },
  {
    name: 'otel-audit splunk_hec, gzip level 1, ack after 1 s',
    yaml: '    ack: true\n    ack_poll_interval: 100ms\n    sending_queue:\n      num_consumers: 64\n',
    token: ACK_TOKEN,
    ackDelayMs: 1000,
  },
];

function config(server: SplunkHecServer, variant: Variant, retryMs: number): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        max_request_body_size: 67108864
exporters:
  splunk_hec:
    endpoint: ${server.url()}
    token: ${variant.token}
    index: audit
    source: otel-audit
    sourcetype: otel:audit
${variant.yaml}    retry_on_failure:
      initial_interval: ${retryMs}ms
      max_interval: ${retryMs}ms
  file:
    path: ./audit.jsonl
    rotation:
      max_megabytes: 0
extensions:
  storage:
    directory: ./storage
    max_size: 4GiB
service:
  shutdown_timeout: 1s
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [splunk_hec, file]
`;
}

/** Newlines in `file` after `from` (bytes), counted incrementally. */
async function countLines(file: string, state: { from: number; lines: number }): Promise<number> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (fh === undefined) return 0;
  try {
    const { size } = await fh.stat();
    if (size > state.from) {
      const buf = Buffer.allocUnsafe(size - state.from);
      await fh.read(buf, 0, buf.length, state.from);
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) state.lines++;
      state.from = size;
    }
    return state.lines;
  } finally {
    await fh.close();
  }
}

/** Fills a spool with `records` records that the splunk_hec exporter has not delivered (HEC answers 503). */
async function fill(dir: string, server: SplunkHecServer, pinning: Pinning, records: number) {
  await mkdir(dir, { recursive: true });
  server.mode = { code: 9 };
  const sidecar = await startSidecar({
    dir,
    config: config(server, VARIANTS[0]!, 10_000),
    wrapper: [...pinning.target],
  });
  const { bodies } = buildRequestBodies(Math.ceil(records / RECORDS_PER_BODY), RECORDS_PER_BODY);
  for (const body of bodies) {
    const status = await postOtlpProtobuf(sidecar.endpoints['otlp/http']!, body);
    if (status !== 200) throw new Error(`sidecar answered ${status}`);
  }
  const total = bodies.length * RECORDS_PER_BODY;
  const auditFile = join(dir, 'audit.jsonl');
  const counted = { from: 0, lines: 0 };
  while ((await countLines(auditFile, counted)) < total) await delay(50);
  await sidecar.stop();
  server.mode = undefined;
  return { total, storage: join(dir, 'storage'), auditFile };
}

interface Result {
  readonly eventsPerSec: number;
  readonly cpuMicrosPerEvent: number;
  readonly extra: number;
}

/**
 * Waits until the server has `total` more events than before; the rate runs from the first event
 * the server got (or from `startedAt`, epoch ms, when the sender says when it started) to the last.
 */
async function measure(
  server: SplunkHecServer,
  total: number,
  onFirst: () => Promise<void> = async () => {},
  ack = false,
) {
  const before = server.indexed;
  const ackedBefore = server.ackedEvents;
  const deadline = Date.now() + 300_000;
  let first = 0;
  for (;;) {
    const n = server.indexed - before;
    if (n > 0 && first === 0) {
      first = Date.now();
      await onFirst();
    }
    // With ack, delivered means acknowledged: until the sender has heard that every event is indexed.
    if (n >= total && (!ack || server.ackedEvents - ackedBefore >= total)) break;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${total} events arrived`);
    await delay(1);
  }
  const last = Date.now();
  return {
    rate: (startedAt = first) => total / ((last - startedAt) / 1000),
    extra: server.indexed - before - total,
  };
}

async function drain(
  dir: string,
  filled: { total: number; storage: string },
  server: SplunkHecServer,
  variant: Variant,
  pinning: Pinning,
  cpuProfDir: string | undefined,
): Promise<Result> {
  await mkdir(dir, { recursive: true });
  await cp(filled.storage, join(dir, 'storage'), { recursive: true });
  let sidecar: SidecarProcess | undefined;
  const cpuAt: number[] = [];
  const starting = startSidecar({
    dir,
    config: config(server, variant, 50),
    wrapper: [...pinning.target],
    nodeArgs: cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`],
  });
  // The sidecar starts delivering as soon as it is up: measure from the first event HEC gets.
  const measured = measure(
    server,
    filled.total,
    async () => {
      sidecar ??= await starting;
      cpuAt.push(await cpuSeconds(sidecar.child.pid!));
    },
    variant.token === ACK_TOKEN,
  );
  sidecar = await starting;
  const r = await measured;
  cpuAt.push(await cpuSeconds(sidecar.child.pid!));
  await sidecar.stop();
  return { eventsPerSec: r.rate(), extra: r.extra, cpuMicrosPerEvent: ((cpuAt[1]! - cpuAt[0]!) * 1e6) / filled.total };
}

async function splunkLogging(auditFile: string, total: number, server: SplunkHecServer, pinning: Pinning) {
  const child = spawnNode(pinning.target, benchScript('splunk-logging-client.js'), [
    `--url=${server.url()}`,
    `--token=${TOKEN}`,
    `--records=${auditFile}`,
    '--in-flight=16',
  ]);
  const line = firstLine(child);
  try {
    const r = await measure(server, total);
    const client = JSON.parse(await line) as { failures: number; cpuMicrosPerEvent: number; startedAt: number };
    if (client.failures > 0) console.log(`  WARNING: splunk-logging reported ${client.failures} failed batches`);
    // From its first send: it serializes whole batches before the first byte leaves.
    return { eventsPerSec: r.rate(client.startedAt), extra: r.extra, cpuMicrosPerEvent: client.cpuMicrosPerEvent };
  } finally {
    await stopChild(child);
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const records = numberOption('records', 200_000);
  const runs = numberOption('runs', 3);
  const cpuProf = stringOption('cpu-prof');
  const cpuProfDir = cpuProf === undefined ? undefined : resolve(cpuProf);
  const pinning = detectPinning();
  // This process is the HEC server: all of its threads on CPU 1, the measured process on CPU 0.
  if (pinning.load.length > 0) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const work = await tempDir('otel-audit-splunk-bench-');
  const server = new SplunkHecServer({
    tokens: [{ token: TOKEN }, { token: ACK_TOKEN, useAck: true }],
    indexes: ['main', 'audit'],
    store: false,
  });
  await server.start();
  try {
    console.log('Splunk HEC: events/s delivered on one CPU, draining a filled spool');
    console.log(`  machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
    console.log(
      `  pinning: ${pinning.description.replace('server', 'sidecar / splunk-logging')}; HEC test server on CPU 1`,
    );
    const filled = await fill(join(work.dir, 'fill'), server, pinning, records);
    const bytes = (await readFile(filled.auditFile)).length / filled.total;
    console.log(
      `  ${filled.total} audit events (six types, ~15 attributes; local record ${Math.round(bytes)} bytes on average), HTTP, ${runs} run(s) each, median\n`,
    );
    const rows: [string, Result][] = [];
    const only = stringOption('variants')?.split(',').map(Number);
    for (const variant of VARIANTS.filter((_, i) => only === undefined || only.includes(i))) {
      const results: Result[] = [];
      server.ackDelayMs = variant.ackDelayMs ?? 0;
      for (let i = 0; i < runs; i++) {
        const profile = cpuProfDir !== undefined && rows.length === 0 && i === 0 ? cpuProfDir : undefined;
        results.push(await drain(join(work.dir, `run-${rows.length}-${i}`), filled, server, variant, pinning, profile));
      }
      rows.push([variant.name, summarize(results)]);
      report(variant.name, results);
    }
    const theirs: Result[] = [];
    for (let i = 0; i < (stringOption('skip-peer') === undefined ? runs : 0); i++)
      theirs.push(await splunkLogging(filled.auditFile, filled.total, server, pinning));
    if (theirs.length > 0) {
      rows.push(['splunk-logging 0.11.1 (no compression: it has none)', summarize(theirs)]);
      report('splunk-logging', theirs);
    }

    const base = theirs.length > 0 ? rows.at(-1)![1].eventsPerSec : NaN;
    console.log(
      `\n${'sender (one CPU)'.padEnd(56)} ${'events/s'.padStart(10)} ${'CPU µs/ev'.padStart(10)} ${'vs splunk-logging'.padStart(18)}`,
    );
    for (const [name, r] of rows) {
      console.log(
        `${name.padEnd(56)} ${Math.round(r.eventsPerSec).toLocaleString('en-US').padStart(10)} ${r.cpuMicrosPerEvent.toFixed(1).padStart(10)} ${`${(r.eventsPerSec / base).toFixed(2)}x`.padStart(18)}`,
      );
    }
    if (cpuProfDir !== undefined) {
      const { readdir } = await import('node:fs/promises');
      const file = (await readdir(cpuProfDir))
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()
        .at(-1);
      if (file !== undefined) {
        console.log(`\nsidecar profile (${rows[0]![0]}, first run), top self time: ${join(cpuProfDir, file)}`);
        for (const t of await topSelfTime(join(cpuProfDir, file), 20)) {
          console.log(`  ${t.percent.toFixed(1).padStart(5)} %  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}`);
        }
      }
    }
  } finally {
    await server.stop();
    await work.cleanup();
  }
}

function summarize(results: readonly Result[]): Result {
  return {
    eventsPerSec: median(results.map((r) => r.eventsPerSec)),
    cpuMicrosPerEvent: median(results.map((r) => r.cpuMicrosPerEvent)),
    extra: Math.max(...results.map((r) => r.extra)),
  };
}

function report(name: string, results: readonly Result[]): void {
  const runs = results.map((r) => Math.round(r.eventsPerSec).toLocaleString('en-US')).join(', ');
  const extra = Math.max(...results.map((r) => r.extra));
  console.log(`  ${name}: ${runs} events/s${extra > 0 ? `  (WARNING: ${extra} events more than sent)` : ''}`);
}

await main();
