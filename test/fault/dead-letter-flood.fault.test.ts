/**
 * Dead-letter amplification: a sender that may post floods the sidecar with invalid audit records
 * (each is answered "rejected" and kept as a dead letter several times its size). Past
 * `deadletter.max_size` they are still answered as rejected but only counted and logged (once a
 * minute), the store stops growing, and a valid sender at the same time is never refused.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { anyValue, attributes, decodeLogsResponse, encodeLogsRequest } from '../support/otlp-raw.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { startSidecar } from '../support/sidecar-process.js';
import { dirWithSink, httpGet, postOtlp, securityBatch, until } from './helpers.js';

const QUOTA = 1024 * 1024;

/** 100 data-access events without their required object and attributes: all fail validation. */
function invalidBatch(): Buffer {
  const extra: Record<string, string> = {};
  for (let i = 0; i < 20; i++) extra[`app.field_${i}`] = `value ${i} ${'v'.repeat(40)}`;
  return encodeLogsRequest({
    resourceLogs: [
      {
        resource: { attributes: attributes({ 'service.name': 'flood' }) },
        scopeLogs: [
          {
            logRecords: Array.from({ length: 100 }, (_, i) => ({
              timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
              eventName: 'audit.data_access',
              body: anyValue(`invalid ${i}`),
              attributes: attributes({ 'user.id': `mallory-${i}`, ...extra }),
            })),
          },
        ],
      },
    ],
  });
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const n of await readdir(dir).catch(() => [] as string[])) total += (await stat(join(dir, n))).size;
  return total;
}

describe('fault: dead-letter flood', () => {
  it('stops keeping invalid records at deadletter.max_size without refusing anyone', { timeout: 90_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, sink, url } = await dirWithSink(defer);
    const sidecar = await startSidecar({
      dir,
      entry: TEST_SIDECAR,
      config: `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  http_sink:
    endpoint: ${url}
extensions:
  storage:
    directory: ./storage
    deadletter:
      max_size: 1MiB
service:
  telemetry:
    address: 127.0.0.1:0
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [http_sink]
`,
    });
    defer(() => sidecar.kill());
    const endpoint = sidecar.endpoints['otlp/http']!;
    const deadLetters = join(dir, 'storage/dead-letter');

    let sent = 0;
    let rejected = 0;
    let growthBeforeQuota: number | undefined;
    const valid: string[] = [];
    for (let i = 0; sent < 4 * 1024 * 1024; i++) {
      const body = invalidBatch();
      const before = await dirSize(deadLetters);
      const res = await postOtlp(endpoint, body);
      assert.equal(res.status, 200);
      rejected += Number(decodeLogsResponse(res.body).partialSuccess?.rejectedLogRecords ?? 0);
      if (i === 0) growthBeforeQuota = ((await dirSize(deadLetters)) - before) / body.length;
      sent += body.length;
      // A valid sender at the same time is taken as always.
      const batch = securityBatch(20);
      assert.equal((await postOtlp(endpoint, batch.body)).status, 200);
      valid.push(...batch.uuids);
    }
    const kept = await dirSize(deadLetters);
    const requests = Math.ceil(sent / invalidBatch().length);
    assert.equal(rejected, requests * 100, 'every invalid record is answered as rejected');
    assert.ok(kept <= QUOTA, `dead letters take ${kept} bytes, max_size is ${QUOTA}`);
    await until(() => valid.every((u) => sink.received.includes(u)), 30_000, 'the valid records delivered');
    const metrics = (await httpGet(`http://${sidecar.endpoints['telemetry']!}/metrics`)).text;
    const overflow = Number(
      /otel_audit_dead_letter_overflow_records_total\{component="receiver"\} (\d+)/.exec(metrics)?.[1] ?? 0,
    );
    assert.ok(overflow > 0 && overflow < rejected, `${overflow} of ${rejected} not kept`);
    assert.match(metrics, /otel_audit_dead_letter_max_bytes 1048576/);
    const lines = sidecar.output.filter((l) => l.includes('dead-letter store full')).length;
    assert.equal(lines, 1, 'logged once a minute, not per request');
    t.diagnostic(
      `${(sent / 1e6).toFixed(1)} MB of invalid requests (${rejected} records): dead letters ${(kept / 1e6).toFixed(2)} MB ` +
        `(a request grows the store ${growthBeforeQuota!.toFixed(1)}× its size until the quota), ${overflow} records counted, not kept`,
    );
    assert.equal(await sidecar.stop(), 0);
  });
});
