/**
 * Lost and damaged positions: a sidecar stores 10,000 records while its exporter's destination is
 * down and stops; the positions are then deleted or scribbled over, and a new start must deliver
 * every record (at least once), say so in the log (naming the file) and count it; a damaged
 * cursors.json no longer stops the start.
 */
import assert from 'node:assert/strict';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupAfter, type Defer } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { startSidecar } from '../support/sidecar-process.js';
import { SinkServer } from '../support/sink-server.js';
import { dirWithSink, httpGet, postOtlp, securityBatch, sinkConfig, until } from './helpers.js';

const RECORDS = 10_000;

/** A stopped sidecar whose spool holds RECORDS records the sink has not got; returns its directory, uuids and sink. */
async function backlog(defer: Defer): Promise<{ dir: string; sent: string[]; sink: SinkServer; config: string }> {
  const { dir, sink, url } = await dirWithSink(defer);
  const config = sinkConfig(url);
  sink.mode = { kind: 'status', status: 503 };
  const sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
  defer(() => sidecar.kill());
  const sent: string[] = [];
  for (let i = 0; i < RECORDS / 500; i++) {
    const { body, uuids } = securityBatch(500);
    assert.equal((await postOtlp(sidecar.endpoints['otlp/http']!, body)).status, 200);
    sent.push(...uuids);
  }
  assert.equal(await sidecar.stop(), 0);
  sink.mode = { kind: 'ok' };
  return { dir, sent, sink, config };
}

/** Starts the sidecar again and waits until the sink has every record; returns its log and metrics. */
async function deliverAll(defer: Defer, dir: string, config: string, sent: string[], sink: SinkServer) {
  const sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
  defer(() => sidecar.kill());
  await until(() => sent.every((u) => sink.received.includes(u)), 60_000, `all ${sent.length} records at the sink`);
  const metrics = (await httpGet(`http://${sidecar.endpoints['telemetry']!}/metrics`)).text;
  assert.equal(await sidecar.stop(), 0);
  return { log: sidecar.output.join('\n'), metrics };
}

describe('fault: lost and damaged spool positions', () => {
  it(
    'deleted cursors.json and cursors.latest: every record is delivered, logged and counted',
    { timeout: 120_000 },
    async (t) => {
      const defer = cleanupAfter(t);
      const { dir, sent, sink, config } = await backlog(defer);
      await unlink(join(dir, 'storage/queue/cursors.json'));
      await unlink(join(dir, 'storage/queue/cursors.latest'));
      const { log, metrics } = await deliverAll(defer, dir, config, sent, sink);
      assert.equal(new Set(sink.received).size, RECORDS);
      assert.match(log, /spool cursors missing: every exporter delivers again from the oldest record in the spool/);
      assert.match(metrics, /otel_audit_spool_cursor_resets_total\{exporter="http_sink",reason="missing"\} 1/);
    },
  );

  it(
    'deleted cursors.json only: the positions in cursors.latest are used, nothing is sent twice',
    { timeout: 120_000 },
    async (t) => {
      const defer = cleanupAfter(t);
      const { dir, sent, sink, config } = await backlog(defer);
      await unlink(join(dir, 'storage/queue/cursors.json'));
      const { metrics } = await deliverAll(defer, dir, config, sent, sink);
      assert.equal(sink.received.length, RECORDS);
      assert.doesNotMatch(metrics, /otel_audit_spool_cursor_resets_total\{/);
    },
  );

  it(
    'a scribbled cursors.json does not stop the start: every record is delivered, the file is named and kept',
    { timeout: 120_000 },
    async (t) => {
      const defer = cleanupAfter(t);
      const { dir, sent, sink, config } = await backlog(defer);
      const queue = join(dir, 'storage/queue');
      await writeFile(
        join(queue, 'cursors.json'),
        '{"version":2,"consumers":{"http_sink":{"segment":1,"off\u0000\u0000',
      );
      await unlink(join(queue, 'cursors.latest'));
      const { log, metrics } = await deliverAll(defer, dir, config, sent, sink);
      assert.equal(new Set(sink.received).size, RECORDS);
      assert.match(log, /spool cursors unreadable: every exporter delivers again from the oldest record in the spool/);
      assert.ok(log.includes(join(queue, 'cursors.json')), 'the log names the file');
      assert.match(metrics, /otel_audit_spool_cursor_resets_total\{exporter="http_sink",reason="unreadable"\} 1/);
      assert.match(await readFile(join(queue, 'cursors.json.unreadable'), 'utf8'), /"off/);
    },
  );
});
