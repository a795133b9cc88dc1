import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { DeliveredCallback, Exporter, ExportOutcome } from '../../src/component.js';
import { DeadLetterStore } from '../../src/deadletter/dead-letter-store.js';
import { backoffMs } from '../../src/delivery/config.js';
import { ExporterQueue, type QueueOptions } from '../../src/delivery/exporter-queue.js';
import { Spool } from '../../src/spool/spool.js';
import { RetryableExportError } from '../../src/model/errors.js';
import type { SpooledRecord, SpoolInput } from '../../src/model/spooled-record.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { readJsonLines } from '../helpers.js';

const logger = createLogger('silent');

function input(n: number): SpoolInput {
  const uuid = randomUUID();
  return {
    uuid,
    eventName: 'audit.security_event',
    eventTime: n,
    receivedAt: Date.now(),
    tenantSubdomain: undefined,
    splunk: {},
    targets: undefined,
    json: JSON.stringify({ message_uuid: uuid, n }),
  };
}

const n = (r: SpooledRecord) => (JSON.parse(r.json) as { n: number }).n;

/** An exporter whose answer to each call is scripted; it records what it was given. */
class ScriptedExporter implements Exporter {
  readonly id = 'scripted';
  readonly calls: number[][] = [];
  readonly delivered: number[] = [];
  script: ((
    records: readonly SpooledRecord[],
    delivered?: DeliveredCallback,
  ) => Promise<ExportOutcome> | ExportOutcome)[] = [];
  async start() {}
  async shutdown() {}
  async export(
    records: readonly SpooledRecord[],
    _signal?: AbortSignal,
    delivered?: DeliveredCallback,
  ): Promise<ExportOutcome> {
    this.calls.push(records.map(n));
    const step = this.script.shift();
    const outcome = step ? await step(records, delivered) : {};
    const failed = new Set([...(outcome.rejected ?? []).map((r) => r.index), ...(outcome.retry?.indexes ?? [])]);
    records.forEach((r, i) => !failed.has(i) && this.delivered.push(n(r)));
    return outcome;
  }
}

describe('exporter queue', () => {
  let dir: string;
  let spool: Spool;
  let deadLetters: DeadLetterStore;
  let metrics: Metrics;
  let exporter: ScriptedExporter;
  let queue: ExporterQueue | undefined;

  const fast: QueueOptions = {
    numConsumers: 1,
    batchSize: 10,
    maxBatchBytes: 1024 * 1024,
    retry: { initialMs: 20, maxMs: 100, multiplier: 2, randomization: 0 },
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-queue-'));
    spool = await Spool.open({
      directory: join(dir, 'queue'),
      maxSizeBytes: 1024 * 1024,
      segmentSizeBytes: 64 * 1024,
      cacheBytes: 64 * 1024,
      consumers: ['scripted'],
      logger,
      cursorFlushMs: 5,
    });
    deadLetters = new DeadLetterStore(join(dir, 'dead-letter'));
    metrics = new Metrics({ defaultMetrics: false });
    exporter = new ScriptedExporter();
  });
  afterEach(async () => {
    await queue?.stop(Date.now());
    queue = undefined;
    await spool.close();
    await deadLetters.close();
    await rm(dir, { recursive: true, force: true });
  });

  function start(options: Partial<QueueOptions> = {}) {
    queue = new ExporterQueue(exporter, spool, deadLetters, { ...fast, ...options }, logger, metrics);
    queue.start();
    return queue;
  }

  async function until(cond: () => boolean, ms = 5000) {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) assert.fail('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function counter(outcome: string): Promise<number> {
    const m = await metrics.exporterRecords.get();
    return m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  }

  it('delivers in batches, in order, and moves the cursor', async () => {
    start();
    await spool.append(Array.from({ length: 25 }, (_, i) => input(i)));
    await until(() => exporter.delivered.length === 25);
    assert.deepEqual(
      exporter.delivered,
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.ok(exporter.calls.every((c) => c.length <= 10));
    await until(() => spool.backlog('scripted').records === 0);
    assert.equal(await counter('exported'), 25);
  });

  it('retries a failing batch with backoff until it goes through, honouring Retry-After', async () => {
    exporter.script = [
      () => Promise.reject(new RetryableExportError('503 busy')),
      () => Promise.reject(new RetryableExportError('429 slow down', 300)),
      () => Promise.reject(new Error('ECONNREFUSED')),
    ];
    start();
    const t0 = Date.now();
    await spool.append([input(1), input(2)]);
    await until(() => exporter.delivered.length === 2);
    assert.ok(Date.now() - t0 >= 300, 'waited at least the Retry-After');
    assert.equal(exporter.calls.length, 4);
    assert.equal(await counter('retried'), 6);
    assert.equal(queue!.failing(), undefined);
  });

  it('dead-letters what the destination refuses for good and retries only what failed temporarily', async () => {
    exporter.script = [
      () => ({
        rejected: [{ index: 1, reason: 'HTTP 400: invalid attributes' }],
        retry: { indexes: [2], reason: '503' },
      }),
    ];
    start();
    const inputs = [input(0), input(1), input(2), input(3)];
    await spool.append(inputs);
    await until(() => exporter.delivered.length === 3);
    assert.deepEqual(exporter.calls, [[0, 1, 2, 3], [2]]);
    const letters = await readJsonLines(join(dir, 'dead-letter/scripted.jsonl'));
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!['uuid'], inputs[1]!.uuid);
    assert.equal(letters[0]!['exporter'], 'scripted');
    assert.equal(letters[0]!['reason'], 'HTTP 400: invalid attributes');
    assert.deepEqual((letters[0]!['record'] as { local: unknown }).local, { message_uuid: inputs[1]!.uuid, n: 1 });
    assert.equal(await counter('dead_lettered'), 1);
  });

  it('keeps several batches in flight but commits the cursor only over finished ones, in order', async () => {
    let releaseFirst!: () => void;
    const firstDone = new Promise<void>((r) => (releaseFirst = r));
    exporter.script = [() => firstDone.then(() => ({}))];
    start({ numConsumers: 3, batchSize: 5 });
    await spool.append(Array.from({ length: 15 }, (_, i) => input(i)));
    await until(() => exporter.calls.length === 3);
    await new Promise((r) => setTimeout(r, 50));
    // The first batch is still in flight: the cursor stays before it; the later two are kept as a finished range.
    const { cursor, done } = spool.progress('scripted');
    assert.equal(cursor.seq, 1);
    assert.deepEqual(done, [[6, 16]]);
    assert.equal(spool.backlog('scripted').records, 5);
    assert.ok(queue!.oldestPending() !== undefined);
    releaseFirst();
    await until(() => spool.backlog('scripted').records === 0);
    assert.equal(queue!.oldestPending(), undefined);
  });

  it('after a restart sends only what the destination had not confirmed', async () => {
    // The destination confirms two records; the sidecar stops before it answers for the others.
    let answer!: (outcome: ExportOutcome) => void;
    exporter.script = [
      (_records, delivered) => {
        delivered?.([0, 2]);
        return new Promise<ExportOutcome>((resolve) => (answer = resolve));
      },
    ];
    start({ batchSize: 4 });
    await spool.append(Array.from({ length: 4 }, (_, i) => input(i)));
    await until(() => spool.progress('scripted').done.length > 0);
    assert.deepEqual(spool.progress('scripted'), {
      cursor: { segment: 1, offset: 0, seq: 1 },
      done: [
        [1, 2],
        [3, 4],
      ],
    });
    const stopping = queue!.stop(Date.now());
    answer({ retry: { indexes: [1, 3], reason: 'shutting down' } });
    await stopping;
    await spool.close();

    spool = await Spool.open({
      directory: join(dir, 'queue'),
      maxSizeBytes: 1024 * 1024,
      segmentSizeBytes: 64 * 1024,
      cacheBytes: 64 * 1024,
      consumers: ['scripted'],
      logger,
    });
    exporter = new ScriptedExporter();
    start({ batchSize: 4 });
    await until(() => spool.backlog('scripted').records === 0);
    assert.deepEqual(exporter.calls, [[1, 3]]);
    assert.equal(await counter('already_delivered'), 2);
  });

  it('on shutdown stops at the deadline and leaves the undelivered batch in the spool', async () => {
    exporter.script = Array.from({ length: 100 }, () => () => Promise.reject(new RetryableExportError('down')));
    start();
    await spool.append([input(1)]);
    await until(() => exporter.calls.length >= 1);
    assert.match(queue!.failing() ?? '', /down/);
    const t0 = Date.now();
    await queue!.stop(Date.now() + 100);
    queue = undefined;
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(spool.backlog('scripted').records, 1);
  });

  it('computes exponential backoff with jitter within bounds', () => {
    const p = { initialMs: 1000, maxMs: 30_000, multiplier: 1.5, randomization: 0.5 };
    assert.equal(
      backoffMs(p, 0, () => 0.5),
      1000,
    );
    assert.equal(
      backoffMs(p, 2, () => 0.5),
      2250,
    );
    assert.equal(
      backoffMs(p, 50, () => 0.5),
      30_000,
    );
    assert.equal(
      backoffMs(p, 0, () => 0),
      500,
    );
    assert.equal(
      backoffMs(p, 0, () => 1),
      1500,
    );
  });
});
