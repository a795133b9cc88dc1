/**
 * Crash safety: a real OpenTelemetry exporter streams audit records while the sidecar is killed with
 * SIGKILL at random moments and restarted. Every record the sidecar acknowledged must reach the
 * audit file, and fewer than 1 % of them twice (at least once; the file exporter skips records
 * already in its file, and a request stored just before a kill and sent again is stored once).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { startSidecar } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { freePort, streamWithKills } from './crash-stream.js';

const TOTAL = 50_000;
const MIN_KILLS = 10;

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
    const { acked, kills, sidecar } = await streamWithKills({
      total: TOTAL,
      minKills: MIN_KILLS,
      lifeMs: [150, 750],
      port,
      start: () => startSidecar({ dir, config }),
      defer,
    });

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
    const report = `${kills} SIGKILLs, ${acked.size} records acknowledged, ${missing.length} missing, ${duplicates} duplicate lines (${((100 * duplicates) / Math.max(1, acked.size)).toFixed(2)}%)`;
    t.diagnostic(report);
    console.log(`crash test: ${report}`);
    assert.ok(kills >= MIN_KILLS);
    assert.ok(acked.size >= TOTAL);
    // A count, not the list: a diff of thousands of uuids takes the test runner minutes to print.
    assert.equal(missing.length, 0, `missing records, e.g. ${missing.slice(0, 5).join(', ')}`);
    assert.ok(duplicates < 0.01 * acked.size, report);
  });
});
