/**
 * Benchmark (nothing asserted): the sap_auditlog_ng exporter draining a filled spool to the NG
 * test server (mTLS), format json and format otlp in the same run. The sidecar runs on CPU 0, the
 * test server (which decodes and checks every event: ajv for JSON, protobufjs for OTLP) with this
 * process on CPU 1 where there are two.
 *
 *   node test/dist/bench/sap-auditlog-ng.bench.js [--records=20000]
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { postOtlpProtobuf } from '../support/otlp-http.js';
import { DNS_SHIM } from '../support/paths.js';
import { SapAuditLogNgServer } from '../support/sap-auditlog-ng-server.js';
import { startSidecar } from '../support/sidecar-process.js';
import { createTestPki, type TestPki } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { buildRequestBodies } from './audit-bodies.js';
import { numberOption } from './bench-args.js';
import { detectPinning, type Pinning } from './processes.js';

function sidecarConfig(format: 'json' | 'otlp', pki: TestPki): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        max_request_body_size: 67108864
exporters:
  sap_auditlog_ng:
    format: ${format}
    tenant_id: bench-provider-tenant
    tls:
      ca_file: ${pki.caFile}
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 100ms
extensions:
  storage:
    directory: ./storage
service:
  shutdown_timeout: 1s
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [sap_auditlog_ng]
`;
}

/** Fills the spool while the server answers 503, then measures how fast the sidecar drains it. */
async function delivery(
  dir: string,
  format: 'json' | 'otlp',
  server: SapAuditLogNgServer,
  pki: TestPki,
  pinning: Pinning,
  records: number,
): Promise<{ records: number; events: number; perSec: number; eventsPerSec: number; requests: number }> {
  await mkdir(dir, { recursive: true });
  const env = {
    VCAP_SERVICES: JSON.stringify({
      'user-provided': [
        {
          label: 'user-provided',
          name: 'auditlog-ng',
          credentials: {
            url: server.url,
            region: 'eu10',
            namespace: 'bench',
            cert: pki.clientCert,
            key: pki.clientKey,
          },
        },
      ],
    }),
  };
  const sidecar = await startSidecar({
    dir,
    config: sidecarConfig(format, pki),
    env,
    wrapper: [...pinning.target],
    nodeArgs: ['--import', DNS_SHIM],
  });
  try {
    const { bodies } = buildRequestBodies(Math.ceil(records / 512), 512);
    server.mode = { status: 503 };
    for (const body of bodies) {
      const status = await postOtlpProtobuf(sidecar.endpoints['otlp/http']!, body);
      if (status !== 200) throw new Error(`sidecar answered ${status}`);
    }
    const total = bodies.length * 512;
    const uuids = new Set<string>();
    const before = server.events.length;
    const requestsBefore = server.requestSizes.length;
    server.mode = undefined;
    let first = 0;
    let last = 0;
    let seen = before;
    for (;;) {
      for (; seen < server.events.length; seen++) {
        const e = server.events[seen]!;
        const context =
          e.format === 'json'
            ? (e.body['data'] as { metadata: { appContext: Record<string, string> } }).metadata.appContext
            : (e.body['common'] as { appContext: Record<string, string> }).appContext;
        uuids.add(context['otel_audit.record_uuid']!);
      }
      if (uuids.size > 0 && first === 0) first = performance.now();
      if (uuids.size >= total) {
        last = performance.now();
        break;
      }
      await delay(5);
    }
    const seconds = (last - first) / 1000;
    const events = server.events.length - before;
    return {
      records: total,
      events,
      perSec: total / seconds,
      eventsPerSec: events / seconds,
      requests: server.requestSizes.length - requestsBefore,
    };
  } finally {
    await sidecar.stop();
  }
}

async function main(): Promise<void> {
  const records = numberOption('records', 20_000);
  const pinning = detectPinning();
  if (pinning.load.length > 0) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
  const work = await tempDir('otel-audit-ng-bench-');
  const pki = createTestPki(join(work.dir, 'pki'));
  const server = new SapAuditLogNgServer(pki);
  await server.start();
  try {
    console.log('SAP Audit Log Service NG: sidecar delivery to the NG test server (mTLS)');
    console.log(`  pinning: ${pinning.description.replace('server', 'sidecar')}; NG test server on CPU 1`);
    for (const format of ['json', 'otlp'] as const) {
      const d = await delivery(join(work.dir, format), format, server, pki, pinning, records);
      console.log(
        `  format ${format.padEnd(4)}: ${Math.round(d.perSec).toLocaleString('en-US').padStart(7)} records/s, ${Math.round(d.eventsPerSec).toLocaleString('en-US').padStart(7)} NG events/s (${d.records} records, ${d.events} events, ${d.requests} requests)`,
      );
    }
  } finally {
    await server.stop();
    await work.cleanup();
  }
}

await main();
