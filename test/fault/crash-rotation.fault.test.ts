/**
 * Crash safety of the file exporter with rotation and the hash chain: a real OpenTelemetry exporter
 * streams audit records while the sidecar is killed with SIGKILL at random moments and restarted,
 * and the audit file rotates every 512 KiB. Every acknowledged record must be in the trail, fewer
 * than 1 % of the lines may be duplicates (the restart dedupe reads across rotated files), and
 * `otel-audit verify` must find the chain and the checkpoints intact.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { otelAudit } from '../support/cli.js';
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
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { rotatedNames } from '../support/rotated.js';

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

async function trailLines(dir: string): Promise<string[]> {
  const names = await rotatedNames(dir);
  const texts = await Promise.all([...names, 'audit.jsonl'].map((n) => readFile(join(dir, n), 'utf8')));
  return texts
    .join('')
    .split('\n')
    .filter((l) => l !== '');
}

describe('fault: SIGKILL while streaming, with rotation', () => {
  it(
    `keeps every acknowledged record, few duplicates and an intact chain across at least ${MIN_KILLS} kills`,
    { timeout: 240_000 },
    async (t) => {
      const { dir, cleanup } = await tempDir();
      const port = await freePort();
      const config = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
exporters:
  file:
    path: ./audit.jsonl
    rotation:
      max_megabytes: 0.5
extensions:
  storage:
    directory: ./storage
service:
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`;
      let sidecar: SidecarProcess | undefined;
      try {
        sidecar = await startSidecar({ dir, config });
        const exporter = new OTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs`, timeoutMillis: 3000 });
        const acked = new Set<string>();
        let sent = 0;
        let kills = 0;
        let stop = false;

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
            await sidecar!.stop('SIGKILL');
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
          lines = await trailLines(dir);
          present = new Set(lines.map((l) => (JSON.parse(l) as { message_uuid: string }).message_uuid));
          if ([...acked].every((u) => present.has(u))) break;
          await sleep(200);
        }
        assert.equal(await sidecar.stop('SIGTERM'), 0);
        sidecar = undefined;
        const verify = otelAudit(['verify', '--config', join(dir, 'config.yaml')], { cwd: dir });
        const missing = [...acked].filter((u) => !present.has(u));
        const duplicates = lines.length - present.size;
        const report = `${kills} SIGKILLs, ${acked.size} records acknowledged, ${missing.length} missing, ${duplicates} duplicate lines (${((100 * duplicates) / Math.max(1, present.size)).toFixed(2)}%)`;
        t.diagnostic(report);
        console.log(`crash test with rotation: ${report}; ${verify.stdout.trim().split('\n').at(-1)}`);
        assert.ok(kills >= MIN_KILLS);
        assert.ok(acked.size >= TOTAL);
        assert.deepEqual(missing, []);
        assert.ok(duplicates < 0.01 * present.size, report);
        assert.equal(verify.code, 0, verify.stdout + verify.stderr);
        assert.match(verify.stdout, new RegExp(`verified: ${lines.length} records in \\d+ files`));
      } finally {
        await sidecar?.stop('SIGKILL');
        await cleanup();
      }
    },
  );
});
