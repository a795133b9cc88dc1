/**
 * Exactly once across SIGKILL: the sap_auditlog_retrieval receiver imports 20,000 records from the
 * Retrieval API test server while the sidecar is killed at random moments (between any two steps:
 * a page fetched, its journal mark, the spool write, the journal line, the checkpoint) and started
 * again on the same storage. At the end the file exporter's output holds every record exactly once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLines } from '../support/jsonl.js';
import { apiRecord, CATEGORIES, SapRetrievalServer } from '../support/sap-retrieval-server.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { sleep } from './helpers.js';

const TOTAL = 20_000;
const MIN_KILLS = 25;

describe('fault: SIGKILL while retrieving from SAP', () => {
  it(`imports every record exactly once across at least ${MIN_KILLS} kills`, { timeout: 240_000 }, async () => {
    const server = new SapRetrievalServer({ clientId: 'sb-crash', clientSecret: 'crash-secret' });
    await server.start();
    const { dir, cleanup } = await tempDir('otel-audit-retrieval-crash-');
    let sidecar: SidecarProcess | undefined;
    try {
      const now = Date.now();
      // 20,000 records over the last 100 minutes, in windows of 5 minutes (two to three pages each).
      server.add(
        Array.from({ length: TOTAL }, (_, i) =>
          apiRecord({
            time: now - 6_000_000 + i * 300,
            category: CATEGORIES[i % 4],
            messageAs: i % 2 ? 'string' : 'object',
          }),
        ),
      );
      const config = `receivers:
  sap_auditlog_retrieval:
    binding: config
    url: ${server.apiUrl}
    uaa: { url: ${server.uaaUrl}, clientid: sb-crash, clientsecret: crash-secret }
    system_id: crash-test
    poll_interval: 100ms
    ingest_delay: 0s
    overlap: 1m
    max_window: 5m
    start_at: 2h
    max_requests_per_second: 40
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./storage
    segment_size: 1MiB
    max_size: 256MiB
service:
  pipelines:
    audit:
      receivers: [sap_auditlog_retrieval]
      exporters: [file]
`;
      const count = async () => (await readLines(join(dir, 'audit.jsonl'))).length;
      let kills = 0;
      while (kills < MIN_KILLS || (await count()) < TOTAL) {
        sidecar = await startSidecar({ dir, config });
        if (kills >= MIN_KILLS) {
          // Enough kills: let it finish.
          const deadline = Date.now() + 60_000;
          while ((await count()) < TOTAL && Date.now() < deadline) await sleep(100);
          await sidecar.stop();
          break;
        }
        await sleep(100 + Math.random() * 500);
        await sidecar.stop('SIGKILL');
        kills++;
      }
      const uuids = (await readLines(join(dir, 'audit.jsonl'))).map((r) => r['message_uuid'] as string);
      const counts = new Map<string, number>();
      for (const u of uuids) counts.set(u, (counts.get(u) ?? 0) + 1);
      const expected = server.uuids();
      const missing = expected.filter((u) => !counts.has(u));
      const duplicated = [...counts].filter(([, n]) => n > 1);
      assert.ok(kills >= MIN_KILLS, `${kills} kills`);
      assert.deepEqual({ missing: missing.length, duplicated: duplicated.length }, { missing: 0, duplicated: 0 });
      assert.equal(uuids.length, TOTAL);
    } finally {
      await sidecar?.stop('SIGKILL');
      await server.stop();
      await cleanup();
    }
  });
});
