import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DeadLetterStore } from '../../src/deadletter/dead-letter-store.js';
import { RECEIVER_DEAD_LETTER_ID, type DeadLetter } from '../../src/model/dead-letter.js';

const letter = (n: number, exporter = RECEIVER_DEAD_LETTER_ID): DeadLetter => ({
  time: '2026-11-21T10:00:00.000Z',
  exporter,
  reason: `rejected ${n} ${'x'.repeat(900)}`,
  uuid: `uuid-${n}`,
  event_name: 'audit.data_access',
});

describe('dead-letter quota (deadletter.max_size)', () => {
  let dir: string;
  let store: DeadLetterStore | undefined;
  let overflow: { component: string; records: number }[];
  const open = (maxBytes: number) => {
    store = new DeadLetterStore(join(dir, 'dead-letter'), undefined, {
      maxBytes,
      onOverflow: (component, records) => overflow.push({ component, records }),
    });
    return store;
  };
  const sizeOnDisk = async () => {
    let total = 0;
    for (const n of await readdir(join(dir, 'dead-letter'))) total += (await stat(join(dir, 'dead-letter', n))).size;
    return total;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-dead-letter-quota-'));
    overflow = [];
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps receiver dead letters up to max_size, then only counts them', async () => {
    const s = open(20 * 1024);
    for (let i = 0; i < 100; i++) await s.write(RECEIVER_DEAD_LETTER_ID, [letter(i)]);
    const size = await sizeOnDisk();
    assert.ok(size <= 20 * 1024, `${size} bytes on disk`);
    assert.ok(size > 18 * 1024, `${size} bytes on disk: the quota is used`);
    const kept = Math.round(size / JSON.stringify(letter(0)).length);
    assert.equal(
      overflow.reduce((n, o) => n + o.records, 0),
      100 - kept,
    );
    assert.ok(overflow.every((o) => o.component === RECEIVER_DEAD_LETTER_ID));
    assert.equal(await s.usedBytes(), size);
  });

  it('always keeps exporter dead letters: those records were acknowledged', async () => {
    const s = open(4 * 1024);
    for (let i = 0; i < 10; i++) await s.write(RECEIVER_DEAD_LETTER_ID, [letter(i)]);
    for (let i = 0; i < 10; i++) await s.write('sap_auditlog', [letter(i, 'sap_auditlog')]);
    const lines = (await import('node:fs/promises')).readFile(s.pathFor('sap_auditlog'), 'utf8');
    assert.equal((await lines).split('\n').filter((l) => l !== '').length, 10);
    assert.ok(overflow.length > 0);
  });

  it('counts the files already there at start, and frees room when dead letters are replayed', async () => {
    await mkdir(join(dir, 'dead-letter'), { recursive: true });
    await writeFile(join(dir, 'dead-letter', 'receiver.jsonl'), `${JSON.stringify(letter(0))}\n`.repeat(20));
    const s = open(20 * 1024);
    await s.write(RECEIVER_DEAD_LETTER_ID, [letter(99)]);
    assert.equal(overflow.length, 1, 'the quota was already used by the existing file');
    await s.rewrite(RECEIVER_DEAD_LETTER_ID, async () => []); // e.g. all replayed
    await s.write(RECEIVER_DEAD_LETTER_ID, [letter(100)]);
    assert.equal(overflow.length, 1);
    assert.ok((await sizeOnDisk()) < 2048);
  });
});
