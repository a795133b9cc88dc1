/**
 * Destination outage: the exporter's destination refuses connections, then answers 503, then 429
 * with Retry-After, then recovers. Nothing is lost, memory stays bounded, and delivery resumes in
 * order of arrival.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { startSidecar } from '../support/sidecar-process.js';
import { dirWithSink, httpGet, postOtlp, rssMiB, securityBatch, sinkConfig, sleep, until } from './helpers.js';

describe('fault: destination outage', () => {
  it('loses nothing, keeps memory bounded and resumes in order', { timeout: 120_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, sink, url } = await dirWithSink(defer);
    await sink.close(); // phase 1: connection refused
    const sidecar = await startSidecar({ dir, config: sinkConfig(url), entry: TEST_SIDECAR });
    defer(() => sidecar.kill());
    const endpoint = sidecar.endpoints['otlp/http']!;
    const sent: string[] = [];
    const rss: number[] = [];

    const send = async (batches: number) => {
      for (let i = 0; i < batches; i++) {
        const { body, uuids } = securityBatch(250, 'x'.repeat(200));
        const res = await postOtlp(endpoint, body);
        assert.equal(res.status, 200);
        sent.push(...uuids);
      }
      rss.push(await rssMiB(sidecar.child.pid!));
    };

    await send(20); // while connection refused
    const ready = await httpGet(`http://${sidecar.endpoints['telemetry']!}/readyz`);
    assert.equal(ready.status, 200, 'an exporter outage does not make the receiver unready');
    const metrics = await httpGet(`http://${sidecar.endpoints['telemetry']!}/metrics`);
    assert.match(metrics.text, /otel_audit_exporter_failing\{exporter="http_sink"\} 1/);
    assert.match(metrics.text, /otel_audit_exporter_queue_records\{exporter="http_sink"\} 5000/);

    await sink.listen();
    sink.mode = { kind: 'status', status: 503 };
    await send(20);
    sink.mode = { kind: 'status', status: 429, retryAfterSeconds: 1 };
    await send(20);
    await sleep(500);
    for (let i = 0; i < 4; i++) await send(20);
    assert.equal(sink.received.length, 0, 'nothing delivered during the outage');

    sink.mode = { kind: 'ok' };
    await until(() => new Set(sink.received).size === sent.length, 60_000, 'all records at the destination');
    await sidecar.stop();
    await sink.close();

    const firstSeen: string[] = [];
    const seen = new Set<string>();
    for (const u of sink.received) {
      if (seen.has(u)) continue;
      seen.add(u);
      firstSeen.push(u);
    }
    assert.deepEqual(firstSeen, sent, 'delivered in order of arrival, nothing missing');
    const growth = Math.max(...rss) - rss[0]!;
    t.diagnostic(`RSS during outage (MiB): ${rss.map((r) => r.toFixed(0)).join(', ')}; ${sent.length} records queued`);
    assert.ok(Math.max(...rss) < 300, `RSS ${Math.max(...rss)} MiB`);
    assert.ok(growth < 100, `RSS grew by ${growth.toFixed(0)} MiB while ${sent.length} records queued`);
  });
});
