import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { LocalRecordsConsumer, StoredSince } from '../../../src/model/consume.js';
import { validateSchema } from '../../../src/config/schema.js';
import { retrievalSchema, type RetrievalConfig } from '../../../src/receivers/sap-auditlog-retrieval/config.js';
import { SapAuditLogRetrievalReceiver } from '../../../src/receivers/sap-auditlog-retrieval/receiver.js';
import { RetrievalState } from '../../../src/receivers/sap-auditlog-retrieval/state.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { Metrics } from '../../../src/telemetry/metrics.js';

const T = Date.parse('2026-11-21T10:00:00Z');

function config(): RetrievalConfig {
  const c = { system_id: 'prod-eu10' };
  assert.deepEqual(validateSchema(retrievalSchema, c, []), []);
  return c as unknown as RetrievalConfig;
}

/** A consumer whose store answers `storedSince` as told, recording the questions. */
function consumer(answer: StoredSince): LocalRecordsConsumer & { asked: [number, string][] } {
  const asked: [number, string][] = [];
  return {
    asked,
    consumeLocal: () => Promise.reject(new Error('not in this test')),
    mark: () => 0,
    storedSince: (mark, systemId) => {
      asked.push([mark, systemId]);
      return Promise.resolve(answer);
    },
  };
}

describe('retrieval state and crash recovery', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'otel-audit-retrieval-state-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function receiverIn(dir: string, store: LocalRecordsConsumer) {
    let log = '';
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _e, done) {
          log += chunk.toString();
          done();
        },
      }),
    );
    const receiver = new SapAuditLogRetrievalReceiver(
      config(),
      { id: 'sap_auditlog_retrieval', logger, metrics: new Metrics({ defaultMetrics: false }), stateDirectory: dir },
      store,
    );
    await receiver.prepare();
    logger.flush();
    await new Promise((r) => setTimeout(r, 20));
    return { receiver, log: () => log };
  }

  it('keeps the checkpoint and the overlap uuids across a reopen', async () => {
    const dir = join(root, 'roundtrip');
    const { state } = await RetrievalState.open(dir, 'prod-eu10');
    await state.beginWindow({ from: T - 60_000, to: T });
    await state.completeWindow({ windowEnd: T, seen: new Map([['a', T - 1000]]) });
    await state.close();
    await assert.rejects(stat(join(dir, 'window.jsonl')), { code: 'ENOENT' });
    const again = await RetrievalState.open(dir, 'prod-eu10');
    assert.equal(again.interrupted, undefined);
    assert.equal(again.state.checkpoint?.windowEnd, T);
    assert.deepEqual([...again.state.checkpoint.seen], [['a', T - 1000]]);
    assert.equal(again.state.checkpointSystemId, undefined);
    assert.equal((await RetrievalState.open(dir, 'other')).state.checkpointSystemId, 'prod-eu10');
  });

  it('after a crash during a spool write, asks the spool which records it holds and journals them', async () => {
    const dir = join(root, 'pending');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'window.jsonl'),
      [
        JSON.stringify({ window: { from: T - 60_000, to: T } }),
        JSON.stringify({ mark: 10 }),
        JSON.stringify({ stored: [['a', T - 5000]] }),
        JSON.stringify({ mark: 17 }),
        '{"stored":[["b",', // torn by the crash: never written in full, so its write is unknown
      ].join('\n'),
    );
    const store = consumer({ uuids: new Set(['b', 'c']), complete: true });
    const { receiver } = await receiverIn(dir, store);
    assert.deepEqual(store.asked, [[17, 'prod-eu10']]);
    const journal = (await readFile(join(dir, 'window.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(journal, [
      { window: { from: T - 60_000, to: T } },
      {
        stored: [
          ['a', T - 5000],
          ['b', T],
          ['c', T],
        ],
      },
    ]);
    await receiver.shutdown();
  });

  it('does not ask when the last write was journalled, and warns when the spool cannot answer in full', async () => {
    const done = join(root, 'done');
    await mkdir(done, { recursive: true });
    await writeFile(
      join(done, 'window.jsonl'),
      `${JSON.stringify({ window: { from: T - 60_000, to: T } })}\n${JSON.stringify({ mark: 3 })}\n${JSON.stringify({ stored: [['a', T]] })}\n`,
    );
    const store = consumer({ uuids: new Set(), complete: true });
    await (await receiverIn(done, store)).receiver.shutdown();
    assert.deepEqual(store.asked, []);

    const gone = join(root, 'gone');
    await mkdir(gone, { recursive: true });
    await writeFile(
      join(gone, 'window.jsonl'),
      `${JSON.stringify({ window: { from: T - 60_000, to: T } })}\n${JSON.stringify({ mark: 3 })}\n`,
    );
    const { receiver, log } = await receiverIn(gone, consumer({ uuids: new Set(), complete: false }));
    assert.match(log(), /cannot tell which records were stored just before the interruption/);
    await receiver.shutdown();
  });

  it('drops the journal of a window the checkpoint already covers', async () => {
    const dir = join(root, 'finished');
    const { state } = await RetrievalState.open(dir, 'prod-eu10');
    await state.completeWindow({ windowEnd: T, seen: new Map() });
    await writeFile(
      join(dir, 'window.jsonl'),
      `${JSON.stringify({ window: { from: T - 60_000, to: T } })}\n${JSON.stringify({ mark: 1 })}\n`,
    );
    const store = consumer({ uuids: new Set(), complete: true });
    await (await receiverIn(dir, store)).receiver.shutdown();
    assert.deepEqual(store.asked, []);
    await assert.rejects(stat(join(dir, 'window.jsonl')), { code: 'ENOENT' });
  });
});
