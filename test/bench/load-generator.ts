/**
 * OTLP/HTTP load generator, run as its own process by the benchmarks. Keeps `--concurrency`
 * POST /v1/logs requests in flight over keep-alive connections, cycling through the request
 * bodies in `--bodies` (see bodies-file.ts), for `--warmup` + `--duration` seconds. Prints
 * `{"event":"measuring"}` when the measured window starts, then one JSON line (LoadResult).
 *
 *   --target=HOST:PORT  --bodies=FILE  --records=N (records per body)
 *   --concurrency=8  --warmup=2  --duration=10
 *   --protocol=http|grpc  OTLP/HTTP protobuf (default) or OTLP/gRPC with the same bodies
 *   --grpc-channels=1     gRPC connections (the requests in flight are spread over them)
 *   --rate=N   paced (open-loop) mode: send N records/s whatever the answers, with at most
 *              --concurrency requests in flight; for latency at a given load
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { exportRaw, rawLogsClient } from '../support/otlp-grpc-raw.js';
import { numberOption, requiredOption, stringOption } from './bench-args.js';
import { readBodiesFile } from './bodies-file.js';

export interface LoadResult {
  /** Length of the measured window (after the warm-up), seconds. */
  readonly seconds: number;
  /** Successful requests (200, empty response = no rejected records) completed in the window. */
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly recordsPerSec: number;
  /** Request body megabytes (10^6 bytes) per second. */
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Everything the target acknowledged over the whole run, warm-up and tail included. */
  readonly total: { readonly requests: number; readonly records: number; readonly bodyBytes: number };
  /** Whole run: `partial` (200 with rejected records), HTTP status codes, or `network`. */
  readonly failures: Record<string, number>;
}

interface Options {
  readonly host: string;
  readonly port: number;
  readonly bodies: Buffer[];
  readonly recordsPerBody: number;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Records per second in paced mode; 0: closed loop (as fast as the target answers). */
  readonly rate: number;
  readonly protocol: 'http' | 'grpc';
  /** gRPC connections the requests are spread over (HTTP/2 multiplexes the requests on each). */
  readonly grpcChannels: number;
}

async function readOptions(): Promise<Options> {
  const target = requiredOption('target');
  const colon = target.lastIndexOf(':');
  return {
    host: target.slice(0, colon),
    port: Number(target.slice(colon + 1)),
    bodies: await readBodiesFile(requiredOption('bodies')),
    recordsPerBody: numberOption('records', 512),
    concurrency: numberOption('concurrency', 8),
    warmupMs: numberOption('warmup', 2, true) * 1000,
    durationMs: numberOption('duration', 10) * 1000,
    rate: numberOption('rate', 0, true),
    protocol: stringOption('protocol') === 'grpc' ? 'grpc' : 'http',
    grpcChannels: numberOption('grpc-channels', 1),
  };
}

/** `ok`, `partial`, an HTTP status code, or `network`. */
type Outcome = string;

/** Sends one request body; resolves with its outcome. */
type Send = (body: Buffer) => Promise<Outcome>;

function grpcSender(options: Options): { send: Send; close: () => void } {
  // Each channel its own connection (grpc-js shares one per target otherwise).
  const clients = Array.from({ length: options.grpcChannels }, () =>
    rawLogsClient(`${options.host}:${options.port}`, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      'grpc.use_local_subchannel_pool': 1,
    }),
  );
  let next = 0;
  const send: Send = async (body) => {
    const client = clients[next++ % clients.length]!;
    const { err, res } = await exportRaw(client, body, 30_000);
    return err ? `grpc-${grpc.status[err.code] ?? err.code}` : res && res.length > 0 ? 'partial' : 'ok';
  };
  return { send, close: () => clients.forEach((c) => c.close()) };
}

function post(agent: Agent, options: Options, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: options.host,
        port: options.port,
        method: 'POST',
        path: '/v1/logs',
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
      },
      (res) => {
        let responseBytes = 0;
        res.on('data', (chunk: Buffer) => (responseBytes += chunk.length));
        res.on('end', () => {
          if (res.statusCode !== 200) resolve(String(res.statusCode));
          else resolve(responseBytes === 0 ? 'ok' : 'partial');
        });
        res.on('error', () => resolve('network'));
      },
    );
    req.on('error', () => resolve('network'));
    req.end(body);
  });
}

class Tally {
  readonly latenciesMs: number[] = [];
  windowBytes = 0;
  totalRequests = 0;
  totalBytes = 0;
  readonly failures: Record<string, number> = {};

  add(outcome: Outcome, bytes: number, latencyMs: number, inWindow: boolean): void {
    if (outcome !== 'ok') {
      this.failures[outcome] = (this.failures[outcome] ?? 0) + 1;
      return;
    }
    this.totalRequests++;
    this.totalBytes += bytes;
    if (!inWindow) return;
    this.latenciesMs.push(latencyMs);
    this.windowBytes += bytes;
  }
}

async function worker(send: Send, tally: Tally, next: () => Buffer, window: [number, number]) {
  while (performance.now() < window[1]) {
    const body = next();
    const started = performance.now();
    const outcome = await send(body);
    const ended = performance.now();
    tally.add(outcome, body.length, ended - started, ended >= window[0] && ended < window[1]);
    // Do not spin when the target is down or refusing.
    if (outcome !== 'ok' && outcome !== 'partial') await delay(10);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarize(options: Options, tally: Tally): LoadResult {
  const seconds = options.durationMs / 1000;
  const sorted = [...tally.latenciesMs].sort((a, b) => a - b);
  const requests = sorted.length;
  return {
    seconds,
    requests,
    requestsPerSec: requests / seconds,
    recordsPerSec: (requests * options.recordsPerBody) / seconds,
    mbPerSec: tally.windowBytes / 1e6 / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    total: {
      requests: tally.totalRequests,
      records: tally.totalRequests * options.recordsPerBody,
      bodyBytes: tally.totalBytes,
    },
    failures: tally.failures,
  };
}

/** Paced mode: one request every `recordsPerBody / rate` seconds; latency measured from the scheduled start. */
async function paced(send: Send, options: Options, tally: Tally, next: () => Buffer, window: [number, number]) {
  const intervalMs = (1000 * options.recordsPerBody) / options.rate;
  const inFlight = new Set<Promise<void>>();
  for (let due = performance.now(); due < window[1]; due += intervalMs) {
    const wait = due - performance.now();
    if (wait > 0) await delay(wait);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    const body = next();
    const scheduled = due;
    const p: Promise<void> = send(body).then((outcome) => {
      const ended = performance.now();
      tally.add(outcome, body.length, ended - scheduled, ended >= window[0] && ended < window[1]);
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}

async function run(options: Options): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const tally = new Tally();
  let i = 0;
  const next = () => options.bodies[i++ % options.bodies.length]!;
  const windowStart = performance.now() + options.warmupMs;
  const window: [number, number] = [windowStart, windowStart + options.durationMs];
  // Tells the benchmark when the measured window starts (it samples the target's CPU time and output then).
  const announce = setTimeout(
    () => process.stdout.write(`${JSON.stringify({ event: 'measuring' })}\n`),
    options.warmupMs,
  );
  const grpcClient = options.protocol === 'grpc' ? grpcSender(options) : undefined;
  const send: Send = grpcClient?.send ?? ((body) => post(agent, options, body));
  if (options.rate > 0) await paced(send, options, tally, next, window);
  else await Promise.all(Array.from({ length: options.concurrency }, () => worker(send, tally, next, window)));
  clearTimeout(announce);
  agent.destroy();
  grpcClient?.close();
  return summarize(options, tally);
}

process.stdout.write(`${JSON.stringify(await run(await readOptions()))}\n`);
