/**
 * Permanent rejection → dead letter → `otel-audit replay` once the cause is fixed, through a
 * running sidecar (request file) and offline (the next start delivers).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readLines } from '../support/jsonl.js';
import { cleanupAfter } from '../support/cleanup.js';
import { TEST_SIDECAR } from '../support/paths.js';
import { startSidecar } from '../support/sidecar-process.js';
import { dirWithSink, postOtlp, securityBatch, sinkConfig, until } from './helpers.js';
import { anyValue, attributes, encodeLogsRequest } from '../support/otlp-raw.js';

function replay(dir: string, args: string[]) {
  const r = spawnSync(process.execPath, [TEST_SIDECAR, 'replay', '--config', join(dir, 'config.yaml'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('fault: dead letters and replay', () => {
  it('dead-letters permanent rejections and replays them after the fix', { timeout: 90_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, sink, url } = await dirWithSink(defer);
    sink.mode = { kind: 'reject', marker: 'poison' };
    const config = sinkConfig(url);
    let sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
    defer(() => sidecar.kill());
    const endpoint = () => sidecar.endpoints['otlp/http']!;
    const good = securityBatch(5, 'fine');
    const poison = securityBatch(3, 'poison');
    assert.equal((await postOtlp(endpoint(), good.body)).status, 200);
    assert.equal((await postOtlp(endpoint(), poison.body)).status, 200);
    const exporterLetters = join(dir, 'storage/dead-letter/http_sink.jsonl');
    await until(async () => (await readLines(exporterLetters)).length === 3, 10_000, 'three dead letters');
    await until(() => good.uuids.every((u) => sink.received.includes(u)), 10_000, 'good records delivered');
    const letters = await readLines(exporterLetters);
    assert.deepEqual(
      letters.map((l) => l['uuid']),
      poison.uuids,
    );
    assert.equal(letters[0]!['reason'], 'contains poison');
    assert.equal(letters[0]!['exporter'], 'http_sink');

    // A record the receiver rejected, fixed by hand in its dead letter.
    const invalid = encodeLogsRequest({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  eventName: 'audit.security_event',
                  body: anyValue('bad ip'),
                  attributes: attributes({
                    'log.record.uid': 'a6d1e7a8-0d7e-4c35-9b1b-3f1c7a2e9f10',
                    'client.address': '300.1.1.1',
                  }),
                },
              ],
            },
          ],
        },
      ],
    });
    assert.equal((await postOtlp(endpoint(), invalid)).status, 200);
    const receiverLetters = join(dir, 'storage/dead-letter/receiver.jsonl');
    await writeFile(receiverLetters, (await readFile(receiverLetters, 'utf8')).replaceAll('300.1.1.1', '10.0.0.1'));

    // Dry run changes nothing.
    const dry = replay(dir, ['--exporter', 'http_sink', '--dry-run']);
    assert.equal(dry.code, 0, dry.out);
    assert.match(dry.out, /http_sink: 3 records would be replayed/);
    assert.equal((await readLines(exporterLetters)).length, 3);

    // The destination is fixed; the running sidecar replays on request.
    sink.mode = { kind: 'ok' };
    const live = replay(dir, ['--exporter', 'http_sink', '--reason', 'poison']);
    assert.equal(live.code, 0, live.out);
    assert.match(live.out, /asking the running sidecar/);
    assert.match(live.out, /http_sink: 3 records replayed/);
    await until(() => poison.uuids.every((u) => sink.received.includes(u)), 10_000, 'replayed records delivered');
    assert.equal((await readLines(exporterLetters)).length, 0);

    const fixed = replay(dir, ['--exporter', 'receiver']);
    assert.equal(fixed.code, 0, fixed.out);
    assert.match(fixed.out, /receiver: 1 record replayed/);
    await until(() => sink.received.includes('a6d1e7a8-0d7e-4c35-9b1b-3f1c7a2e9f10'), 10_000, 'the fixed record');

    // Offline: dead letters replayed while the sidecar is stopped are delivered at the next start.
    sink.mode = { kind: 'reject', marker: 'poison' };
    const later = securityBatch(2, 'poison again');
    assert.equal((await postOtlp(endpoint(), later.body)).status, 200);
    await until(async () => (await readLines(exporterLetters)).length === 2, 10_000, 'new dead letters');
    assert.equal(await sidecar.stop(), 0);
    sink.mode = { kind: 'ok' };
    const offline = replay(dir, []);
    assert.equal(offline.code, 0, offline.out);
    assert.doesNotMatch(offline.out, /asking the running sidecar/);
    assert.match(offline.out, /http_sink: 2 records replayed/);
    sidecar = await startSidecar({ dir, config, entry: TEST_SIDECAR });
    await until(() => later.uuids.every((u) => sink.received.includes(u)), 10_000, 'offline replay delivered');
    assert.equal(await sidecar.stop(), 0);
  });
});
