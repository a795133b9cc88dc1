/**
 * Benchmark (nothing asserted): the sap_auditlog exporter against the SAP Audit Log Service test
 * server, next to `@sap/audit-logging` v2 against the same server in the same run.
 *
 * 1. Delivery: messages/s from the sidecar (one CPU) to the test server, draining a filled spool.
 * 2. Application side: events/s and CPU per event for an application using `@sap/audit-logging`
 *    (one HTTPS request to SAP per event), for the same calls with the drop-in
 *    `@otel-audit/sap-audit-logging`, and for one using `@otel-audit/sdk` (`emit`, `await log`),
 *    the latter two with the sidecar next to them. Each application runs alone on CPU 0; its peer (the SAP test
 *    server, or the sidecar, which answers once a record is in its spool) on CPU 1.
 *
 *   node test/dist/bench/sap-auditlog.bench.js [--duration=5] [--records=20000]
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { postOtlpProtobuf } from '../support/otlp-http.js';
import { DNS_SHIM } from '../support/paths.js';
import { SapAuditLogServer } from '../support/sap-auditlog-server.js';
import { httpConfig, startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { createTestPki, type TestPki } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import type { AppSideResult } from './app-side.js';
import { buildRequestBodies } from './audit-bodies.js';
import { numberOption } from './bench-args.js';
import { benchScript, detectPinning, firstLine, spawnNode, type Pinning } from './processes.js';

const CLIENT_ID = 'sb-bench!b1|auditlog!b2';
const CLIENT_SECRET = 'bench-secret';

function sidecarConfig(server: SapAuditLogServer, pki: TestPki): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        max_request_body_size: 67108864
exporters:
  sap_auditlog:
    url: ${server.apiUrl}
    uaa:
      url: ${server.uaaUrl()}
      clientid: "${CLIENT_ID}"
      clientsecret: "${CLIENT_SECRET}"
    max_concurrency: 32
    tls:
      ca_file: ${pki.caFile}
    sending_queue:
      num_consumers: 2
      batch_size: 512
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
      exporters: [sap_auditlog]
`;
}

async function startBenchSidecar(
  dir: string,
  server: SapAuditLogServer,
  pki: TestPki,
  cpu: readonly string[],
): Promise<SidecarProcess> {
  await mkdir(dir, { recursive: true });
  return startSidecar({ dir, config: sidecarConfig(server, pki), wrapper: [...cpu], nodeArgs: ['--import', DNS_SHIM] });
}

/** Fills the spool while the server answers 503, then measures how fast the sidecar drains it. */
async function delivery(dir: string, server: SapAuditLogServer, pki: TestPki, pinning: Pinning, records: number) {
  const sidecar = await startBenchSidecar(join(dir, 'delivery'), server, pki, pinning.target);
  try {
    const { bodies } = buildRequestBodies(Math.ceil(records / 512), 512);
    server.apiMode = { status: 503 };
    for (const body of bodies) {
      const status = await postOtlpProtobuf(sidecar.endpoints['otlp/http']!, body);
      if (status !== 200) throw new Error(`sidecar answered ${status}`);
    }
    const total = bodies.length * 512;
    const before = server.messages.length;
    server.apiMode = undefined;
    let first = 0;
    let last = 0;
    for (;;) {
      const n = server.messages.length - before;
      if (n > 0 && first === 0) first = performance.now();
      if (n >= total) {
        last = performance.now();
        break;
      }
      await delay(5);
    }
    return { messages: total, perSec: total / ((last - first) / 1000) };
  } finally {
    await sidecar.stop();
  }
}

async function appSide(
  script: string,
  args: string[],
  cpu: readonly string[],
  env: Record<string, string>,
): Promise<Record<string, AppSideResult>> {
  const child = spawnNode(cpu, benchScript(script), args, { env, nodeArgs: ['--import', DNS_SHIM] });
  return JSON.parse(await firstLine(child)) as Record<string, AppSideResult>;
}

/** Sum and count of the sidecar's request and spool-write histograms (its /metrics). */
async function sidecarTimes(telemetry: string): Promise<{ request: [number, number]; fsync: [number, number] }> {
  const text = await (await fetch(`http://${telemetry}/metrics`)).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(name));
    return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? NaN);
  };
  return {
    request: [
      value('otel_audit_receiver_request_duration_seconds_sum'),
      value('otel_audit_receiver_request_duration_seconds_count'),
    ],
    fsync: [
      value('otel_audit_spool_fsync_duration_seconds_sum'),
      value('otel_audit_spool_fsync_duration_seconds_count'),
    ],
  };
}

function row(name: string, r: AppSideResult): string {
  return `${name.padEnd(58)} ${Math.round(r.eventsPerSec).toLocaleString('en-US').padStart(11)} ${r.cpuMicrosPerEvent.toFixed(1).padStart(10)} ${r.p50Ms === null ? '         -' : r.p50Ms.toFixed(2).padStart(10)}${r.failures ? `  (${r.failures} failed)` : ''}`;
}

async function main(): Promise<void> {
  const seconds = numberOption('duration', 5);
  const records = numberOption('records', 20_000);
  const pinning = detectPinning();
  // This process (the SAP test server) shares CPU 1 with the peers; applications and the measured sidecar get CPU 0.
  if (pinning.load.length > 0) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
  const work = await tempDir('otel-audit-sap-bench-');
  const pki = createTestPki(join(work.dir, 'pki'));
  const server = new SapAuditLogServer(pki, {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    providerZone: 'provider',
  });
  await server.start();
  try {
    console.log('SAP Audit Log Service: sidecar delivery and application-side cost');
    console.log(
      `  pinning: ${pinning.description.replace('server', 'sidecar / application')}; SAP test server with the peers on CPU 1`,
    );
    const d = await delivery(work.dir, server, pki, pinning, records);
    console.log(
      `\nsidecar → SAP test server (HTTPS, OAuth2, 32 connections, one CPU): ${Math.round(d.perSec).toLocaleString('en-US')} messages/s (${d.messages} messages)`,
    );

    const env = { NODE_EXTRA_CA_CERTS: pki.caFile };
    const theirs = await appSide(
      'app-side-sap-audit-logging.js',
      [
        `--api=${server.apiUrl}`,
        `--uaa=${server.uaaUrl()}`,
        `--client-id=${CLIENT_ID}`,
        `--client-secret=${CLIENT_SECRET}`,
        `--duration=${seconds}`,
      ],
      pinning.target,
      env,
    );
    // The application's answer comes once the sidecar has the record in its spool, whatever the
    // destination; a file exporter keeps CPU 1 free of the test server's HTTPS work meanwhile.
    const appDir = join(work.dir, 'app-side');
    await mkdir(appDir, { recursive: true });
    const sidecar = await startSidecar({
      dir: appDir,
      config: httpConfig({ exporters: '  file:\n    path: ./audit.jsonl', exporterIds: ['file'] }),
      wrapper: [...pinning.load],
    });
    let ours: Record<string, AppSideResult>;
    let dropIn: Record<string, AppSideResult>;
    let during: Awaited<ReturnType<typeof sidecarTimes>>;
    try {
      const endpoint = `http://${sidecar.endpoints['otlp/http']!}`;
      ours = await appSide(
        'app-side-otel-audit.js',
        [`--endpoint=${endpoint}`, `--duration=${seconds}`],
        pinning.target,
        env,
      );
      const dropInEnv = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint };
      dropIn = await appSide(
        'app-side-sap-audit-logging-drop-in.js',
        [`--duration=${seconds}`],
        pinning.target,
        dropInEnv,
      );
      // Once more, 50 security messages in flight alone, to see how long the sidecar took per request.
      const before = await sidecarTimes(sidecar.endpoints['telemetry']!);
      await appSide(
        'app-side-sap-audit-logging-drop-in.js',
        [`--duration=${seconds}`, '--case=securityMessage().log(), 50 in flight'],
        pinning.target,
        dropInEnv,
      );
      const after = await sidecarTimes(sidecar.endpoints['telemetry']!);
      const delta = (a: [number, number], b: [number, number]): [number, number] => [a[0] - b[0], a[1] - b[1]];
      during = { request: delta(after.request, before.request), fsync: delta(after.fsync, before.fsync) };
    } finally {
      await sidecar.stop();
    }
    console.log(
      `\n${'application side (one CPU for the application)'.padEnd(58)} ${'events/s'.padStart(11)} ${'CPU µs/ev'.padStart(10)} ${'p50 ms'.padStart(10)}`,
    );
    for (const [name, r] of Object.entries(theirs)) console.log(row(`@sap/audit-logging ${name}`, r));
    for (const [name, r] of Object.entries(dropIn)) console.log(row(`@otel-audit/sap-audit-logging ${name}`, r));
    for (const [name, r] of Object.entries(ours)) console.log(row(`@otel-audit/sdk ${name}`, r));
    const base = theirs['securityMessage().log(), awaited one by one']!;
    const base50 = theirs['securityMessage().log(), 50 in flight']!;
    console.log('\nratios (events/s, @otel-audit/sdk over @sap/audit-logging):');
    console.log(
      `  emit() vs securityMessage().log() awaited:        ${(ours['emit(SecurityEvent)']!.eventsPerSec / base.eventsPerSec).toFixed(1)}x`,
    );
    console.log(
      `  emit() vs securityMessage().log() 50 in flight:   ${(ours['emit(SecurityEvent)']!.eventsPerSec / base50.eventsPerSec).toFixed(1)}x`,
    );
    console.log(
      `  await log() vs awaited log(), one by one:         ${(ours['await log(SecurityEvent), one by one']!.eventsPerSec / base.eventsPerSec).toFixed(1)}x`,
    );
    console.log(
      `  log() 50 in flight vs log() 50 in flight:         ${(ours['log(SecurityEvent), 50 in flight']!.eventsPerSec / base50.eventsPerSec).toFixed(1)}x`,
    );
    console.log('\nratios, the same calls with @otel-audit/sap-audit-logging over @sap/audit-logging:');
    for (const name of Object.keys(theirs)) {
      const a = theirs[name]!;
      const b = dropIn[name];
      if (b === undefined) continue;
      console.log(
        `  ${`${name}:`.padEnd(48)} ${(b.eventsPerSec / a.eventsPerSec).toFixed(1).padStart(6)}x events/s, ${(a.cpuMicrosPerEvent / b.cpuMicrosPerEvent).toFixed(1).padStart(6)}x less CPU per event`,
      );
    }
    // What bounds an application that keeps 50 calls in flight: each call waits for a whole request
    // to the sidecar, which answers once the records are written and fdatasynced.
    const requestMs = (during.request[0] / during.request[1]) * 1000;
    const fsyncMs = (during.fsync[0] / during.fsync[1]) * 1000;
    console.log(
      `  the sidecar during a rerun of securityMessage().log() 50 in flight: ${during.request[1]} requests, ${requestMs.toFixed(2)} ms each on average ` +
        `(spool write + fdatasync ${fsyncMs.toFixed(2)} ms); 50 in flight ÷ ${requestMs.toFixed(2)} ms = ` +
        `${Math.round(50 / (requestMs / 1000)).toLocaleString('en-US')} events/s at most`,
    );
    console.log(`  tokens fetched by @sap/audit-logging and the sidecars together: ${server.tokensIssued.length}`);
  } finally {
    await server.stop();
    await work.cleanup();
  }
}

await main();
