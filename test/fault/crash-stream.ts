import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { SecurityEvent } from '@otel-audit/sdk';
import type { Defer } from '../support/cleanup.js';
import type { SidecarProcess } from '../support/sidecar-process.js';

/*
 * The SIGKILL fault tests' stream: three real OpenTelemetry exporters send requests of `batch`
 * records to a sidecar while it is killed with SIGKILL at random moments and restarted, and each
 * request is sent again until the sidecar acknowledges it.
 */

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function records(n: number): { uuids: string[]; records: ReadableLogRecord[] } {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'crash-test' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('crash');
  const uuids: string[] = [];
  for (let i = 0; i < n; i++) {
    const uuid = randomUUID();
    uuids.push(uuid);
    logger.emit(new SecurityEvent({ uuid, data: `login ${i}`, user: `user-${i % 97}`, ip: '10.0.0.1' }).toLogRecord());
  }
  return { uuids, records: memory.getFinishedLogRecords() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StreamOptions {
  /** Send at least this many records ... */
  readonly total: number;
  /** ... and go on until the sidecar was killed at least this often. */
  readonly minKills: number;
  /** How long a (re)started sidecar runs before it is killed: a random time in this range (ms). */
  readonly lifeMs: readonly [number, number];
  /** Records per second the three senders send together at most (default: as fast as the sidecar takes them). */
  readonly recordsPerSecond?: number;
  /** Records per request (default 500). */
  readonly batch?: number;
  /** The OTLP/HTTP port the sidecar listens on (the same after each restart). */
  readonly port: number;
  /** Starts the sidecar (again). */
  readonly start: () => Promise<SidecarProcess>;
  readonly defer: Defer;
}

export interface StreamResult {
  /** Uuids of the records the sidecar acknowledged. */
  readonly acked: Set<string>;
  /** Uuids of records in requests that failed at least once (the sidecar may have stored them before it died). */
  readonly resent: Set<string>;
  readonly kills: number;
  /** The sidecar running now. */
  readonly sidecar: SidecarProcess;
}

/** Streams records while killing and restarting the sidecar (see above); its cleanups go to `defer`. */
export async function streamWithKills(o: StreamOptions): Promise<StreamResult> {
  let sidecar = await o.start();
  o.defer(() => sidecar.kill());
  const exporter = new OTLPLogExporter({ url: `http://127.0.0.1:${o.port}/v1/logs`, timeoutMillis: 3000 });
  o.defer(() => exporter.shutdown());
  const acked = new Set<string>();
  const resent = new Set<string>();
  let sent = 0;
  let kills = 0;
  let stop = false;
  o.defer(() => (stop = true)); // a test that failed or timed out stops killing and restarting
  const going = () => !stop && (sent < o.total || kills < o.minKills);

  const batchSize = o.batch ?? 500;
  // Each of the three senders starts a request every `interval` ms at most.
  const interval = o.recordsPerSecond === undefined ? 0 : (3 * batchSize * 1000) / o.recordsPerSecond;
  const sender = async () => {
    while (going()) {
      const started = Date.now();
      const batch = records(batchSize);
      sent += batchSize;
      for (;;) {
        const result = await new Promise<{ code: ExportResultCode }>((resolve) =>
          exporter.export(batch.records, resolve),
        );
        if (result.code === ExportResultCode.SUCCESS) {
          for (const u of batch.uuids) acked.add(u);
          break;
        }
        for (const u of batch.uuids) resent.add(u);
        await sleep(50);
      }
      await sleep(started + interval - Date.now());
    }
  };
  const killer = async () => {
    while (going()) {
      const [min, max] = o.lifeMs;
      await sleep(min + Math.random() * (max - min));
      await sidecar.stop('SIGKILL');
      kills++;
      sidecar = await o.start();
    }
  };
  await Promise.all([sender(), sender(), sender(), killer()]);
  stop = true;
  await exporter.shutdown();
  return { acked, resent, kills, sidecar };
}
