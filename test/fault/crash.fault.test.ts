/**
 * Crash safety: a real OpenTelemetry exporter streams audit records while the sidecar is killed with
 * SIGKILL at random moments and restarted. Every record the sidecar acknowledged must reach the
 * audit file. Duplicates are allowed (at-least-once) and reported.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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
import { cleanupAfter } from '../support/cleanup.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';

const TOTAL = 50_000;
const BATCH = 500;
const MIN_KILLS = 10;

function freePort(): Promise<number> {
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

/** The lines of audit.jsonl and of the files it was rotated to (at 100 MB: a fast run gets there). */
async function auditLines(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /^audit.*\.jsonl$/.test(n));
  const lines: string[] = [];
  for (const name of names) {
    for (const l of (await readFile(join(dir, name), 'utf8')).split('\n')) if (l !== '') lines.push(l);
  }
  return lines;
}

describe('fault: SIGKILL while streaming', () => {
  it(`keeps every acknowledged record across at least ${MIN_KILLS} kills`, { timeout: 180_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const port = await freePort();
    const config = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./storage
service:
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`;
    let sidecar: SidecarProcess = await startSidecar({ dir, config });
    defer(() => sidecar.kill());
    const exporter = new OTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs`, timeoutMillis: 3000 });
    defer(() => exporter.shutdown());
    const acked = new Set<string>();
    let sent = 0;
    let kills = 0;
    let stop = false;
    defer(() => (stop = true)); // a test that failed or timed out stops killing and restarting

    const sender = async () => {
      while (!stop && (sent < TOTAL || kills < MIN_KILLS)) {
        const batch = records(BATCH);
        sent += BATCH;
        for (;;) {
          const result = await new Promise<{ code: ExportResultCode }>((resolve) =>
            exporter.export(batch.records, resolve),
          );
          if (result.code === ExportResultCode.SUCCESS) {
            for (const u of batch.uuids) acked.add(u);
            break;
          }
          await sleep(50);
        }
      }
    };
    const killer = async () => {
      while (!stop && (sent < TOTAL || kills < MIN_KILLS)) {
        await sleep(150 + Math.random() * 600);
        await sidecar.stop('SIGKILL');
        kills++;
        sidecar = await startSidecar({ dir, config });
      }
    };
    await Promise.all([sender(), sender(), sender(), killer()]);
    stop = true;
    await exporter.shutdown();

    // Let the file exporter catch up with everything in the spool, then stop cleanly.
    const deadline = Date.now() + 60_000;
    let lines: string[] = [];
    let present = new Set<string>();
    while (Date.now() < deadline) {
      lines = await auditLines(dir);
      present = new Set(lines.map((l) => (JSON.parse(l) as { message_uuid: string }).message_uuid));
      if ([...acked].every((u) => present.has(u))) break;
      await sleep(200);
    }
    assert.equal(await sidecar.stop('SIGTERM'), 0);
    const missing = [...acked].filter((u) => !present.has(u));
    const duplicates = lines.length - present.size;
    const report = `${kills} SIGKILLs, ${acked.size} records acknowledged, ${missing.length} missing, ${duplicates} duplicate lines (${((100 * duplicates) / Math.max(1, present.size)).toFixed(2)}%)`;
    t.diagnostic(report);
    console.log(`crash test: ${report}`);
    assert.ok(kills >= MIN_KILLS);
    assert.ok(acked.size >= TOTAL);
    // A count, not the list: a diff of thousands of uuids takes the test runner minutes to print.
    assert.equal(missing.length, 0, `missing records, e.g. ${missing.slice(0, 5).join(', ')}`);
  });
});
