/**
 * Full spool: with a tiny max_size and the destination down, the receiver answers 429 with
 * Retry-After; the client's retries succeed once the destination is back and space frees.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuditClient } from '@otel-audit/sdk';
import { cleanupAfter } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { decodeStatus } from '../support/otlp-raw.js';
import { startSidecar } from '../support/sidecar-process.js';
import { dirWithSink, httpGet, postOtlp, SecurityEvent, securityBatch, sinkConfig, sleep, until } from './helpers.js';

describe('fault: spool full', () => {
  it('answers 429 with Retry-After and accepts the retries once space frees', { timeout: 60_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, sink, url } = await dirWithSink(defer);
    sink.mode = { kind: 'status', status: 503 };
    const sidecar = await startSidecar({
      dir,
      config: sinkConfig(url, { maxSize: '256KiB', segmentSize: '32KiB' }),
      entry: TEST_SIDECAR,
    });
    defer(() => sidecar.kill());
    const endpoint = sidecar.endpoints['otlp/http']!;

    const accepted: string[] = [];
    let refused: Awaited<ReturnType<typeof postOtlp>> | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const { body, uuids } = securityBatch(20, 'y'.repeat(300));
      const res = await postOtlp(endpoint, body);
      if (res.status === 200) accepted.push(...uuids);
      else refused = res;
    }
    assert.ok(refused, 'the spool never filled');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.retryAfter) >= 1);
    assert.equal(decodeStatus(refused.body).code, 8); // RESOURCE_EXHAUSTED
    const ready = await httpGet(`http://${sidecar.endpoints['telemetry']!}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(ready.text, /spool full/);

    // A client keeps retrying (the SDK honours Retry-After) while the destination comes back.
    const client = createAuditClient({ endpoint: `http://${endpoint}`, logTimeoutMillis: 30_000 });
    defer(() => client.shutdown());
    const late = new SecurityEvent({ data: 'logged while the spool was full' });
    const pending = client.log(late);
    await sleep(1500);
    sink.mode = { kind: 'ok' };
    await pending;
    await client.shutdown();
    await until(() => [...accepted, late.uuid].every((u) => sink.received.includes(u)), 30_000, 'delivery');
    // Delivered records leave the spool once the exporter's cursor is persisted: ready again.
    await until(
      async () => (await httpGet(`http://${sidecar.endpoints['telemetry']!}/readyz`)).status === 200,
      5000,
      'ready',
    );
    await sidecar.stop();
  });
});
