import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatIssues,
  formatRejectionMessage,
  MAX_REJECTION_MESSAGE_LENGTH,
  parseRejectionMessage,
  type RecordRejection,
  type RejectionSummary,
} from '../src/index.js';

/** The receiver's formatter as it was before it moved here: the wire format other clients read. */
function legacyFormat(result: RejectionSummary): string {
  let out = `${result.rejected.length} of ${result.received} log records rejected`;
  for (let i = 0; i < result.rejected.length; i++) {
    const r = result.rejected[i]!;
    const line = `\nrecord ${r.index} uuid=${r.uuid ?? '-'}: ${formatIssues(r.issues)}`;
    if (out.length + line.length > 64 * 1024) {
      out += `\n... and ${result.rejected.length - i} more (see the dead-letter store)`;
      break;
    }
    out += line;
  }
  return out;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UUID = '0b312302-1457-5772-bc56-7996b941e45a';

/** A request of `received` records of which a random subset is rejected with reasons of random length. */
function randomSummary(next: () => number, received: number, share: number, maxReason: number): RejectionSummary {
  const rejected: RecordRejection[] = [];
  for (let index = 0; index < received; index++) {
    if (next() >= share) continue;
    const issues = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, k) => ({
      field: `audit.custom.k${k}`,
      message: `ü€ "${'x'.repeat(Math.floor(next() * maxReason))}" is wrong`,
    }));
    rejected.push({ index, uuid: next() < 0.2 ? undefined : `${index}-${UUID.slice(8)}`, issues });
  }
  return { received, rejected };
}

describe('partial-success rejection message', { timeout: 20_000 }, () => {
  it('is the documented text', () => {
    const message = formatRejectionMessage({
      received: 4,
      rejected: [
        {
          index: 1,
          uuid: 'not-a-uuid',
          issues: [
            { field: 'log.record.uid', message: '"not-a-uuid" is not a UUID' },
            { field: 'audit.object.id', message: 'at least one key is required for audit.data_access' },
          ],
        },
        { index: 2, uuid: undefined, issues: [{ field: 'body', message: 'a value of 300 characters' }] },
      ],
    });
    assert.equal(
      message,
      '2 of 4 log records rejected\n' +
        'record 1 uuid=not-a-uuid: log.record.uid: "not-a-uuid" is not a UUID; audit.object.id: at least one key is required for audit.data_access\n' +
        'record 2 uuid=-: body: a value of 300 characters',
    );
  });

  it('is byte for byte what the receiver sent before, below and above the 64 KiB cap', () => {
    const next = random(11);
    for (let round = 0; round < 40; round++) {
      const summary = randomSummary(next, 1 + Math.floor(next() * 4000), next(), 1 + Math.floor(next() * 400));
      assert.equal(formatRejectionMessage(summary), legacyFormat(summary), `round ${round}`);
    }
  });

  it('cuts the list at the cap and says how many it left out', () => {
    const rejected = Array.from({ length: 5000 }, (_, i) => ({
      index: i * 2,
      uuid: UUID,
      issues: [{ field: 'audit.object.type', message: 'required for audit.data_access' }],
    }));
    const message = formatRejectionMessage({ received: 10000, rejected });
    const lines = message.split('\n');
    const trailer = lines.at(-1)!;
    assert.ok(message.length - trailer.length - 1 <= MAX_REJECTION_MESSAGE_LENGTH);
    assert.equal(trailer, `... and ${5000 - (lines.length - 2)} more (see the dead-letter store)`);
    const parsed = parseRejectionMessage(message)!;
    assert.equal(parsed.truncated, true);
    assert.equal(parsed.omitted + parsed.records.length, 5000);
    assert.deepEqual(
      parsed.records.map((r) => r.index),
      rejected.slice(0, parsed.records.length).map((r) => r.index),
    );
  });

  it('parses back every line it wrote: index, uuid, reason, and what was left out', () => {
    const next = random(7);
    for (let round = 0; round < 40; round++) {
      const summary = randomSummary(next, 1 + Math.floor(next() * 3000), next(), 1 + Math.floor(next() * 300));
      const maxLength = round % 2 === 0 ? MAX_REJECTION_MESSAGE_LENGTH : 2000;
      const parsed = parseRejectionMessage(formatRejectionMessage(summary, maxLength));
      assert.ok(parsed !== undefined, `round ${round}`);
      assert.equal(parsed.rejected, summary.rejected.length);
      assert.equal(parsed.received, summary.received);
      const shown = summary.rejected.slice(0, parsed.records.length);
      assert.deepEqual(
        parsed.records,
        shown.map((r) => ({ index: r.index, uuid: r.uuid, reason: formatIssues(r.issues) })),
      );
      assert.equal(parsed.omitted, summary.rejected.length - parsed.records.length);
      assert.equal(parsed.truncated, parsed.omitted > 0);
    }
  });

  it('keeps each record on one line when a value holds line breaks', () => {
    const message = formatRejectionMessage({
      received: 3,
      rejected: [
        {
          index: 0,
          uuid: 'x\nrecord 2 uuid=-',
          issues: [{ field: 'log.record.uid', message: '"x\r\nrecord 2 uuid=-: forged" is not a UUID' }],
        },
      ],
    });
    assert.equal(message.split('\n').length, 2);
    assert.deepEqual(parseRejectionMessage(message)?.records, [
      {
        index: 0,
        uuid: 'x\\nrecord 2 uuid=-',
        reason: 'log.record.uid: "x\\r\\nrecord 2 uuid=-: forged" is not a UUID',
      },
    ]);
  });

  it('reads a message without record lines', () => {
    assert.deepEqual(parseRejectionMessage('3 of 3 log records rejected\n... and 3 more (see the dead-letter store)'), {
      rejected: 3,
      received: 3,
      records: [],
      truncated: true,
      omitted: 3,
    });
  });

  it('refuses text in any other form rather than guessing', () => {
    for (const text of [
      '',
      'some records were dropped',
      '1 of 2 records rejected',
      '1 of 2 log records rejected\nrecord 0 uuid=a: fine\nsomething else',
      '1 of 2 log records rejected\nrecord x uuid=a: bad index',
      '1 of 2 log records rejected\nrecord 01 uuid=a: leading zero',
      '1 of 2 log records rejected\nrecord 0 uuid=a',
      '2 of 2 log records rejected\n... and 1 more (see the dead-letter store)\nrecord 1 uuid=a: after the trailer',
      '1 of 2 log records rejected\n',
    ]) {
      assert.equal(parseRejectionMessage(text), undefined, JSON.stringify(text));
    }
  });
});
