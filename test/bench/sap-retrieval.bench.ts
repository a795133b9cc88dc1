/**
 * Benchmark (nothing asserted): records/s the sap_auditlog_retrieval receiver imports from the
 * Retrieval API test server into the spool, and delivers to the HEC test server, next to the
 * ceiling SAP's rate limit sets (8 requests/s × 500 records = 4,000 records/s in the fastest
 * regions, 2,000 in the others), and the requests it needs per 10,000 records.
 *
 * Each run starts a sidecar (pinned to CPU 0 where taskset works; this process, with both test
 * servers, stays on the other CPU) with an empty storage directory and one window holding every
 * record. Into the spool: from the first API request to the log line of the finished window (all
 * records fsynced and the checkpoint written). To Splunk: from the first API request to the last
 * event HEC indexes. Variants: no client rate limit (the receiver's own ceiling) and SAP's 8 req/s.
 *
 *   node test/dist/bench/sap-retrieval.bench.js [--records=100000] [--runs=3]
 */
import { setTimeout as delay } from 'node:timers/promises';
import { apiRecord, CATEGORIES, SapRetrievalServer } from '../support/sap-retrieval-server.js';
import { startSidecar } from '../support/sidecar-process.js';
import { SplunkHecServer } from '../support/splunk-hec-server.js';
import { tempDir } from '../support/tmp.js';
import { numberOption } from './bench-args.js';
import { detectPinning } from './processes.js';

const HEC_TOKEN = '4f2c1f7e-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
const PAGE = 500;

interface Variant {
  readonly name: string;
  readonly requestsPerSecond: number;
  /** Fraction of --records this variant imports (the rate-limited one needs less to measure). */
  readonly share: number;
}

const VARIANTS: readonly Variant[] = [
  { name: 'no client rate limit (max_requests_per_second: 1000)', requestsPerSecond: 1000, share: 1 },
  { name: "SAP's fastest region limit (max_requests_per_second: 8)", requestsPerSecond: 8, share: 0.2 },
];

function config(server: SapRetrievalServer, hec: SplunkHecServer, rate: number): string {
  return `receivers:
  sap_auditlog_retrieval:
    binding: config
    url: ${server.apiUrl}
    uaa: { url: ${server.uaaUrl}, clientid: sb-bench, clientsecret: bench-secret }
    system_id: bench
    poll_interval: 5s
    ingest_delay: 0s
    overlap: 1m
    max_window: 24h
    start_at: 3h
    max_requests_per_second: ${rate}
exporters:
  splunk_hec:
    endpoint: ${hec.url()}
    token: ${HEC_TOKEN}
    index: audit
    health_check_enabled: false
extensions:
  storage:
    directory: ./storage
    max_size: 4GiB
service:
  shutdown_timeout: 1s
  pipelines:
    audit:
      receivers: [sap_auditlog_retrieval]
      exporters: [splunk_hec]
`;
}

interface Result {
  readonly spoolPerSec: number;
  readonly hecPerSec: number;
  readonly requestsPer10k: number;
  readonly tokens: number;
}

async function run(records: number, variant: Variant, hec: SplunkHecServer, wrapper: string[]): Promise<Result> {
  const server = new SapRetrievalServer({ clientId: 'sb-bench', clientSecret: 'bench-secret' });
  await server.start();
  const { dir, cleanup } = await tempDir('otel-audit-retrieval-bench-');
  const now = Date.now();
  const span = 2 * 3_600_000;
  server.add(
    Array.from({ length: records }, (_, i) =>
      apiRecord({
        time: now - span + Math.floor((i * span) / records),
        category: CATEGORIES[i % 4],
        messageAs: 'string',
      }),
    ),
  );
  const indexedBefore = hec.indexed;
  const sidecar = await startSidecar({ dir, config: config(server, hec, variant.requestsPerSecond), wrapper });
  try {
    const deadline = Date.now() + 600_000;
    let spoolDone: number | undefined;
    let hecDone: number | undefined;
    while (spoolDone === undefined || hecDone === undefined) {
      if (Date.now() > deadline) throw new Error('the import did not finish within 10 minutes');
      if (hecDone === undefined && hec.indexed - indexedBefore >= records) hecDone = Date.now();
      if (spoolDone === undefined) {
        const line = sidecar.output.find((l) => l.includes('"retrieved audit records from SAP"'));
        if (line !== undefined) {
          const entry = JSON.parse(line) as { time: string; imported: number };
          if (entry.imported !== records) throw new Error(`imported ${entry.imported} of ${records}`);
          spoolDone = Date.parse(entry.time);
        }
      }
      await delay(2);
    }
    const start = server.firstRequestAt;
    return {
      spoolPerSec: records / ((spoolDone - start) / 1000),
      hecPerSec: records / ((hecDone - start) / 1000),
      requestsPer10k: (server.apiRequests / records) * 10_000,
      tokens: server.tokensIssued,
    };
  } finally {
    await sidecar.stop();
    await server.stop();
    await cleanup();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const records = numberOption('records', 100_000);
  const runs = numberOption('runs', 3);
  const pinning = detectPinning();
  const hec = new SplunkHecServer({ tokens: [{ token: HEC_TOKEN }], indexes: ['audit'], store: false });
  await hec.start();
  console.log(`sap_auditlog_retrieval: ${records} records, ${runs} runs, pages of ${PAGE}; ${pinning.description}`);
  console.log("ceiling set by SAP's rate limit: 8 req/s × 500 = 4,000 records/s (4 req/s regions: 2,000)");
  try {
    for (const variant of VARIANTS) {
      const n = Math.max(PAGE, Math.round(records * variant.share));
      const results: Result[] = [];
      for (let i = 0; i < runs; i++) results.push(await run(n, variant, hec, [...pinning.target]));
      console.log(
        `${variant.name}, ${n} records: ` +
          `into the spool ${Math.round(median(results.map((r) => r.spoolPerSec)))} records/s, ` +
          `to HEC ${Math.round(median(results.map((r) => r.hecPerSec)))} records/s ` +
          `(runs: ${results.map((r) => `${Math.round(r.spoolPerSec)}/${Math.round(r.hecPerSec)}`).join(', ')}); ` +
          `${median(results.map((r) => r.requestsPer10k)).toFixed(1)} API requests per 10k records, ` +
          `${median(results.map((r) => r.tokens))} token per run`,
      );
    }
  } finally {
    await hec.stop();
  }
}

await main();
