import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { ExportOutcome } from '../../../src/component.js';
import { validateSchema } from '../../../src/config/schema.js';
import { splunkHecSchema, type SplunkHecConfig } from '../../../src/exporters/splunk-hec/config.js';
import { SplunkHecExporter } from '../../../src/exporters/splunk-hec/hec-exporter.js';
import { RetryableExportError } from '../../../src/model/errors.js';
import type { SpooledRecord } from '../../../src/model/spooled-record.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { parseConcatenated, spooledRecord } from './records.js';

const TOKEN = '11111111-2222-3333-4444-555555555555';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Decompressed body bytes. */
  readonly bytes: number;
  readonly events: Record<string, unknown>[];
  readonly body: string;
}

type Answer = { status: number; body: Record<string, unknown> | string; headers?: Record<string, string> };

/** A scriptable HEC stand-in: `answer` decides each event request; `/ack` answers from `acked`. */
class StubHec {
  readonly received: Received[] = [];
  readonly ackQueries: { headers: IncomingHttpHeaders; ids: number[] }[] = [];
  answer: (events: Record<string, unknown>[], n: number) => Answer = () => ({
    status: 200,
    body: { text: 'Success', code: 0 },
  });
  /** ack ids reported true. */
  readonly acked = new Set<number>();
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
        const send = (a: Answer) => {
          const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
          res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers }).end(text);
        };
        if (req.url === '/services/collector/health')
          return send({ status: 200, body: { text: 'HEC is healthy', code: 17 } });
        if (req.url === '/services/collector/ack') {
          const ids = (JSON.parse(body) as { acks: number[] }).acks;
          this.ackQueries.push({ headers: req.headers, ids });
          return send({ status: 200, body: { acks: Object.fromEntries(ids.map((id) => [id, this.acked.has(id)])) } });
        }
        const events = parseConcatenated(body);
        const n = this.received.length;
        this.received.push({ path: req.url ?? '', headers: req.headers, bytes: Buffer.byteLength(body), events, body });
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        setTimeout(() => {
          this.inFlight--;
          send(this.answer(events, n));
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset() {
    this.received.length = 0;
    this.ackQueries.length = 0;
    this.acked.clear();
    this.answer = () => ({ status: 200, body: { text: 'Success', code: 0 } });
    this.maxInFlight = 0;
    this.delayMs = 0;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Every event that arrived in a request answered 200, by message_uuid. */
  uuids(): string[] {
    return this.received.flatMap((r) => r.events.map((e) => (e['event'] as { message_uuid: string }).message_uuid));
  }
}

const isBad = (e: Record<string, unknown>) => (e['event'] as { message: { data: string } }).message.data === 'BAD';

describe('splunk_hec exporter', () => {
  const hec = new StubHec();
  const logs: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  );
  let running: SplunkHecExporter[] = [];

  before(() => hec.start());
  after(async () => {
    await Promise.all(running.map((e) => e.shutdown()));
    await hec.stop();
  });
  beforeEach(async () => {
    await Promise.all(running.map((e) => e.shutdown()));
    running = [];
    hec.reset();
    logs.length = 0;
  });

  async function exporter(extra: Record<string, unknown> = {}, stateDirectory?: string): Promise<SplunkHecExporter> {
    const config = { endpoint: hec.url, token: TOKEN, health_check_enabled: false, ...extra };
    assert.deepEqual(validateSchema(splunkHecSchema, config, []), []);
    const e = new SplunkHecExporter('splunk_hec', config as unknown as SplunkHecConfig, logger, stateDirectory);
    await e.start();
    running.push(e);
    return e;
  }

  const records = (n: number, over: (i: number) => Parameters<typeof spooledRecord>[0] = () => ({})) =>
    Array.from({ length: n }, (_, i) => spooledRecord({ seq: i, ...over(i) }));

  function delivered(batch: readonly SpooledRecord[], outcome: ExportOutcome): string[] {
    const failed = new Set([...(outcome.rejected ?? []).map((r) => r.index), ...(outcome.retry?.indexes ?? [])]);
    return batch.filter((_, i) => !failed.has(i)).map((r) => r.uuid);
  }

  it('posts gzip-compressed concatenated events to /services/collector/event with the token', async () => {
    const e = await exporter({ index: 'audit', sourcetype: 'otel:audit' });
    const batch = records(3);
    assert.deepEqual(await e.export(batch), {});
    assert.equal(hec.received.length, 1);
    const [r] = hec.received;
    assert.equal(r!.path, '/services/collector/event');
    assert.equal(r!.headers['authorization'], `Splunk ${TOKEN}`);
    assert.equal(r!.headers['content-encoding'], 'gzip');
    assert.equal(r!.headers['content-type'], 'application/json');
    assert.equal(r!.headers['x-splunk-request-channel'], undefined, 'no channel without ack');
    assert.deepEqual(
      hec.uuids(),
      batch.map((b) => b.uuid),
    );
    assert.deepEqual(r!.events[0]!['event'], JSON.parse(batch[0]!.json));
    assert.equal(r!.events[0]!['time'], 1763719200.123);

    const plain = await exporter({ disable_compression: true });
    await plain.export(records(1));
    assert.equal(hec.received[1]!.headers['content-encoding'], undefined);
  });

  it('splits batches under max_content_length (before compression), requests in parallel up to max_concurrency', async () => {
    hec.delayMs = 30;
    const e = await exporter({ max_content_length: '4KiB', max_concurrency: 3 });
    const batch = records(60);
    assert.deepEqual(await e.export(batch), {});
    assert.ok(hec.received.length >= 8, `${hec.received.length} requests`);
    for (const r of hec.received) assert.ok(r.bytes <= 4096, `${r.bytes} bytes`);
    assert.equal(hec.maxInFlight, 3);
    assert.deepEqual(hec.uuids().sort(), batch.map((b) => b.uuid).sort());
  });

  it('dead-letters a single event over max_content_length without sending it', async () => {
    const e = await exporter({ max_content_length: '2KiB' });
    const batch = records(3, (i) => (i === 1 ? { data: 'x'.repeat(3000) } : {}));
    const outcome = await e.export(batch);
    assert.equal(outcome.rejected?.length, 1);
    assert.equal(outcome.rejected[0]!.index, 1);
    assert.match(outcome.rejected[0]!.reason, /bytes with its HEC envelope, over max_content_length \(2048 bytes\)/);
    assert.deepEqual(hec.uuids(), [batch[0]!.uuid, batch[2]!.uuid]);
  });

  it('dead-letters the event HEC names by invalid-event-number and sends the rest again', async () => {
    hec.answer = (events) => {
      const bad = events.findIndex(isBad);
      return bad < 0
        ? { status: 200, body: { text: 'Success', code: 0 } }
        : { status: 400, body: { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': bad } };
    };
    const e = await exporter();
    const batch = records(10, (i) => (i === 3 || i === 7 ? { data: 'BAD' } : {}));
    const outcome = await e.export(batch);
    assert.deepEqual(
      outcome.rejected?.map((r) => r.index),
      [3, 7],
    );
    assert.equal(
      outcome.rejected[0]!.reason,
      'Splunk HEC HTTP 400 code 13 (Event field cannot be blank), invalid-event-number 3 of 10',
    );
    assert.equal(
      outcome.rejected[1]!.reason,
      'Splunk HEC HTTP 400 code 13 (Event field cannot be blank), invalid-event-number 6 of 9',
    );
    assert.equal(outcome.retry, undefined);
    assert.equal(hec.received.length, 3, 'one request per bad event, then the rest');
    assert.deepEqual(hec.received[2]!.events.length, 8);
    assert.deepEqual(delivered(batch, outcome).length, 8);
  });

  it('bisects to find bad events when HEC does not say which', async () => {
    hec.answer = (events) =>
      events.some(isBad)
        ? { status: 400, body: { text: 'Error in handling indexed fields', code: 15 } }
        : { status: 200, body: { text: 'Success', code: 0 } };
    const e = await exporter();
    const batch = records(64, (i) => (i === 5 || i === 40 ? { data: 'BAD' } : {}));
    const outcome = await e.export(batch);
    assert.deepEqual(
      outcome.rejected?.map((r) => r.index).sort((a, b) => a - b),
      [5, 40],
    );
    assert.equal(outcome.rejected[0]!.reason, 'Splunk HEC HTTP 400 code 15 (Error in handling indexed fields)');
    const ok = hec.received.filter((r) => !r.events.some(isBad));
    assert.deepEqual(
      ok.flatMap((r) => r.events.map((ev) => (ev['event'] as { message_uuid: string }).message_uuid)).sort(),
      batch
        .filter((_, i) => i !== 5 && i !== 40)
        .map((b) => b.uuid)
        .sort(),
      'every good event indexed exactly once',
    );
    assert.ok(hec.received.length <= 1 + 2 * 2 * 6, `${hec.received.length} requests for 2 bad events in 64`);
  });

  it('splits a request HEC finds too large (413)', async () => {
    hec.answer = (events) =>
      events.length > 4
        ? { status: 413, body: 'Content-Length too large' }
        : { status: 200, body: { text: 'Success', code: 0 } };
    const e = await exporter();
    const batch = records(20);
    assert.deepEqual(await e.export(batch), {});
    assert.deepEqual(
      hec.received
        .filter((r) => r.events.length <= 4)
        .flatMap((r) => r.events.length)
        .reduce((a, b) => a + b),
      20,
    );
  });

  it('code 7: dead-letters records that chose a bad index, keeps records sent to a bad configured index', async () => {
    hec.answer = (events) =>
      events[0]!['index'] === 'nope' || events[0]!['index'] === 'typo'
        ? { status: 400, body: { text: 'Incorrect index', code: 7, 'invalid-event-number': 0 } }
        : { status: 200, body: { text: 'Success', code: 0 } };
    const e = await exporter({ index: 'audit' });
    const batch = records(9, (i) => (i % 3 === 1 ? { splunk: { index: 'nope' } } : {}));
    const outcome = await e.export(batch);
    assert.deepEqual(
      outcome.rejected?.map((r) => r.index),
      [1, 4, 7],
    );
    assert.equal(
      outcome.rejected[0]!.reason,
      'Splunk HEC HTTP 400 code 7 (Incorrect index): the record\'s index "nope" (com.splunk.index)',
    );
    assert.equal(outcome.retry, undefined);
    for (const r of hec.received)
      assert.equal(new Set(r.events.map((ev) => ev['index'])).size, 1, 'one index per request');

    const typo = await exporter({ index: 'typo' });
    await assert.rejects(typo.export(records(4)), (err: Error) => {
      assert.ok(err instanceof RetryableExportError);
      assert.match(err.message, /code 7 \(Incorrect index\): the configured index "typo"; fix index/);
      return true;
    });
  });

  it('keeps the records when HEC refuses the token, and never puts the token in the reason', async () => {
    hec.answer = () => ({ status: 403, body: { text: 'Invalid token', code: 4 } });
    const e = await exporter();
    await assert.rejects(e.export(records(5)), (err: Error) => {
      assert.ok(err instanceof RetryableExportError);
      assert.equal(
        err.message,
        "Splunk HEC HTTP 403 code 4 (Invalid token): the token is not known to HEC; check the exporter's token",
      );
      assert.ok(!err.message.includes(TOKEN));
      return true;
    });
    hec.answer = () => ({ status: 503, body: { text: 'Server is busy', code: 9 }, headers: { 'Retry-After': '7' } });
    await assert.rejects(e.export(records(5)), (err: RetryableExportError) => err.retryAfterMs === 7000);
    assert.ok(!logs.join('').includes(TOKEN));
  });

  it('retries only the requests that failed', async () => {
    const e = await exporter({ max_content_length: '2KiB' });
    hec.answer = (_, n) =>
      n === 1
        ? { status: 503, body: { text: 'Server is busy', code: 9 } }
        : { status: 200, body: { text: 'Success', code: 0 } };
    const batch = records(6);
    const outcome = await e.export(batch);
    assert.ok(outcome.retry !== undefined && outcome.retry.indexes.length > 0 && outcome.retry.indexes.length < 6);
    assert.equal(outcome.retry.reason, 'Splunk HEC HTTP 503 code 9 (Server is busy)');
  });

  it('with ack, resolves once HEC acknowledges, and leaves unacknowledged requests for a resend', async () => {
    let nextAck = 0;
    hec.answer = () => ({ status: 200, body: { text: 'Success', code: 0, ackId: nextAck++ } });
    const e = await exporter({
      ack: true,
      ack_poll_interval: '20ms',
      ack_timeout: '400ms',
      max_content_length: '2KiB',
    });
    const batch = records(4);
    const exported = e.export(batch);
    let settled = false;
    void exported.then(() => (settled = true));
    await until(() => hec.ackQueries.length >= 2);
    assert.equal(settled, false, 'not delivered before the acknowledgement');
    for (let id = 0; id < nextAck; id++) hec.acked.add(id);
    assert.deepEqual(await exported, {});
    const channel = hec.received[0]!.headers['x-splunk-request-channel'] as string;
    assert.match(channel, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const r of hec.received) assert.equal(r.headers['x-splunk-request-channel'], channel);
    for (const q of hec.ackQueries) {
      assert.equal(q.headers['x-splunk-request-channel'], channel);
      assert.equal(q.headers['authorization'], `Splunk ${TOKEN}`);
    }

    // One of two requests never acknowledged: only its records come back for a retry.
    hec.acked.clear();
    const first = nextAck;
    const second = e.export(records(6));
    await new Promise((r) => setTimeout(r, 60));
    hec.acked.add(first);
    const t0 = Date.now();
    const outcome = await second;
    assert.ok(Date.now() - t0 >= 250, 'waited for ack_timeout');
    assert.ok(outcome.retry !== undefined && outcome.retry.indexes.length > 0 && outcome.retry.indexes.length < 6);
    assert.match(outcome.retry.reason, /did not acknowledge ackId \d+ \(\d+ events\) within ack_timeout 400ms/);
  });

  it('reports the records of each request HEC confirms, and none it refuses', async () => {
    const e = await exporter({ max_content_length: '2KiB' });
    hec.answer = (_, n) =>
      n === 1
        ? { status: 503, body: { text: 'Server is busy', code: 9 } }
        : { status: 200, body: { text: 'Success', code: 0 } };
    const batch = records(6);
    const reported: number[] = [];
    const outcome = await e.export(batch, undefined, (indexes) => reported.push(...indexes));
    const retried = new Set(outcome.retry?.indexes ?? []);
    assert.ok(retried.size > 0 && retried.size < 6);
    assert.deepEqual(
      reported.sort(),
      [0, 1, 2, 3, 4, 5].filter((i) => !retried.has(i)),
      'every record HEC took, none it refused',
    );
  });

  it('with ack, after a restart asks HEC about the requests it accepted before instead of sending them again', async (t) => {
    const state = await mkdtemp(join(tmpdir(), 'otel-audit-hec-state-'));
    t.after(() => rm(state, { recursive: true, force: true }));
    let nextAck = 0;
    hec.answer = () => ({ status: 200, body: { text: 'Success', code: 0, ackId: nextAck++ } });
    const ackConfig = { ack: true, ack_poll_interval: '20ms', ack_timeout: '600ms' };
    const batch = records(3);

    // Sent and accepted; the sidecar stops before HEC acknowledges it.
    const before = await exporter(ackConfig, state);
    const stop = new AbortController();
    const cut = before.export(batch, stop.signal);
    await until(() => hec.received.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    stop.abort();
    await assert.rejects(cut, /shutting down before Splunk HEC confirmed the events/);
    await before.shutdown();
    const channel = hec.received[0]!.headers['x-splunk-request-channel'];

    // HEC indexed it meanwhile: the restarted exporter asks on the same channel and does not send it again.
    hec.acked.add(0);
    const after = await exporter(ackConfig, state);
    const reported: number[] = [];
    assert.deepEqual(await after.export(batch, undefined, (i) => reported.push(...i)), {});
    assert.equal(hec.received.length, 1, 'not sent again');
    assert.deepEqual(reported.sort(), [0, 1, 2]);
    assert.ok(hec.ackQueries.some((q) => q.ids.includes(0) && q.headers['x-splunk-request-channel'] === channel));
    await after.shutdown();

    // A request HEC never acknowledges is sent again once its ack_timeout (from when it was sent) is over.
    hec.acked.clear();
    const third = await exporter(ackConfig, state);
    const stop3 = new AbortController();
    const cut3 = third.export(records(2), stop3.signal);
    await until(() => hec.received.length === 2);
    const sentAt = Date.now();
    stop3.abort();
    await assert.rejects(cut3, /shutting down/);
    await third.shutdown();
    const fourth = await exporter(ackConfig, state);
    const resend = fourth.export(records(2));
    await until(() => nextAck === 3);
    assert.ok(Date.now() - sentAt >= 500, 'waited for the acknowledgement until the original deadline');
    assert.equal(hec.received.length, 3);
    hec.acked.add(2);
    assert.deepEqual(await resend, {});
  });

  it('checks HEC health at start without failing when it is down', async (t) => {
    await exporter({ health_check_enabled: true });
    await until(() => logs.join('').includes('"msg":"Splunk HEC is healthy"'));
    const down = new SplunkHecExporter(
      'splunk_hec',
      { ...(validated({ endpoint: 'http://127.0.0.1:9', token: TOKEN }) as SplunkHecConfig) },
      logger,
    );
    t.after(() => down.shutdown());
    await down.start();
    await until(() =>
      logs.join('').includes('"msg":"Splunk HEC is unreachable; records are kept in the spool until it takes them"'),
    );
    await down.shutdown();
    assert.ok(!logs.join('').includes(TOKEN));
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function validated(config: Record<string, unknown>): unknown {
  assert.deepEqual(validateSchema(splunkHecSchema, config, []), []);
  return config;
}
