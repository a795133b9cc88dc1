/**
 * The `splunk-logging` npm client (run as its own process by splunk-hec.bench): sends the local
 * records of a JSON Lines file (as many as the file holds, cycling through its first `--distinct`) to
 * HEC as fast as it can, with its batching (`maxBatchCount`,
 * `maxBatchSize`, `batchInterval`), keep-alive, and at most `--in-flight` batches outstanding.
 * The events and metadata are those the sidecar's splunk_hec exporter sends. Prints one JSON line
 * when every batch is answered, with the time it started sending; the benchmark takes the time the
 * HEC server got the last event.
 */
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { numberOption, requiredOption } from './bench-args.js';

interface Context {
  message: unknown;
  metadata: { time: number; source: string; sourcetype: string; index: string };
}
type Callback = (err: Error | null, res?: unknown, body?: unknown) => void;
interface SplunkLogger {
  send(context: Context, callback?: Callback): void;
  flush(callback?: Callback): void;
  eventFormatter: (message: unknown, severity: string) => unknown;
  requestOptions: Record<string, unknown>;
  error: (err: Error, context: unknown) => void;
  serializedContextQueue: unknown[];
}

const require = createRequire(import.meta.url);
const { Logger } = require('splunk-logging') as {
  Logger: new (config: Record<string, unknown>, requestOptions?: Record<string, unknown>) => SplunkLogger;
};

const maxInFlight = numberOption('in-flight', 16);
const lines = (await readFile(requiredOption('records'), 'utf8')).split('\n').filter((l) => l !== '');
const total = lines.length;
// An application builds an event and lets go of it. Holding all of them parsed at once would
// mostly measure the garbage collector marking a huge heap, so the client cycles through the
// first `--distinct` events, parsed before the clock starts.
const ring: Context[] = lines.slice(0, numberOption('distinct', 10_000)).map((l) => {
  const message = JSON.parse(l) as { time: string };
  return {
    message,
    metadata: { time: Date.parse(message.time), source: 'otel-audit', sourcetype: 'otel:audit', index: 'audit' },
  };
});

const logger = new Logger({
  token: requiredOption('token'),
  url: requiredOption('url'),
  maxBatchCount: numberOption('batch-count', 100_000),
  maxBatchSize: numberOption('batch-bytes', 1024 * 1024),
  batchInterval: numberOption('batch-interval', 1000),
  maxRetries: 0,
});
// Its best: keep-alive connections, and the record object itself as `event` (no {message, severity} wrapper).
logger.requestOptions['agent'] = new Agent({ keepAlive: true, maxSockets: maxInFlight });
logger.eventFormatter = (message) => message;
let failures = 0;
logger.error = () => failures++;

const cpuStart = process.cpuUsage();
const started = performance.now();
const startedAt = Date.now();
let next = 0;
let inFlight = 0;

function done(): void {
  inFlight--;
  pump();
}

function pump(): void {
  while (next < total && inFlight < maxInFlight) {
    logger.send(ring[next++ % ring.length]!, done);
    if (logger.serializedContextQueue.length === 0) inFlight++; // that send filled a batch and flushed it
  }
  if (next === total && logger.serializedContextQueue.length > 0) {
    inFlight++;
    logger.flush(done);
  }
  if (next === total && inFlight === 0) {
    const cpu = process.cpuUsage(cpuStart);
    console.log(
      JSON.stringify({
        events: total,
        failures,
        startedAt,
        ms: performance.now() - started,
        cpuMicrosPerEvent: (cpu.user + cpu.system) / total,
      }),
    );
    process.exit(0);
  }
}

pump();
