import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { formatIssues, formatRejectionMessage, type RecordRejection } from '@otel-audit/semconv';
import { rejectionOutcomes, type RecordOutcome } from '../src/transport/rejection-outcomes.js';

const REASON = [{ field: 'audit.object.type', message: 'required for audit.data_access' }];

function uuids(n: number): string[] {
  return Array.from({ length: n }, () => randomUUID());
}

/** The receiver's message for a request whose records at `rejected` positions were rejected. */
function message(ids: readonly string[], rejected: readonly number[], maxLength?: number, withUuid = true): string {
  const list: RecordRejection[] = rejected.map((index) => ({
    index,
    uuid: withUuid ? ids[index] : undefined,
    issues: REASON,
  }));
  return formatRejectionMessage({ received: ids.length, rejected: list }, maxLength);
}

const kinds = (outcomes: RecordOutcome[]) => outcomes.map((o) => o.kind);

describe('rejection outcomes', { timeout: 20_000 }, () => {
  it('accepts everything when the count is 0, whatever the message says', () => {
    const ids = uuids(3);
    assert.deepEqual(kinds(rejectionOutcomes(ids, 0, message(ids, [1]))), ['accepted', 'accepted', 'accepted']);
  });

  it('rejects the records named, with their reason, and accepts the rest', () => {
    const ids = uuids(4);
    assert.deepEqual(rejectionOutcomes(ids, 2, message(ids, [1, 3])), [
      { kind: 'accepted' },
      { kind: 'rejected', reason: formatIssues(REASON) },
      { kind: 'accepted' },
      { kind: 'rejected', reason: formatIssues(REASON) },
    ]);
  });

  it('places `uuid=-` lines (per-record limits) by their index', () => {
    const ids = uuids(3);
    assert.deepEqual(kinds(rejectionOutcomes(ids, 1, message(ids, [2], undefined, false))), [
      'accepted',
      'accepted',
      'rejected',
    ]);
  });

  it('matches uuids case-insensitively', () => {
    const ids = uuids(2);
    const text = message(ids, [0]).replace(ids[0]!, ids[0]!.toUpperCase());
    assert.deepEqual(kinds(rejectionOutcomes(ids, 1, text)), ['rejected', 'accepted']);
  });

  it('falls back to uuids when the indexes are not positions in this request', () => {
    const ids = uuids(3);
    // Index 0 names the record sent at position 2 (another receiver counting differently).
    const text = `1 of 3 log records rejected\nrecord 0 uuid=${ids[2]}: audit.object.type: required`;
    assert.deepEqual(kinds(rejectionOutcomes(ids, 1, text)), ['accepted', 'accepted', 'rejected']);
    // Without a uuid such a line places nothing: nobody is accepted on its word.
    const noUuid = `1 of 4 log records rejected\nrecord 0 uuid=-: body: too long`;
    assert.deepEqual(kinds(rejectionOutcomes(ids, 1, noUuid)), ['unconfirmed', 'unconfirmed', 'unconfirmed']);
  });

  it('does not place a line by a uuid sent twice in the request', () => {
    const id = randomUUID();
    const ids = [id, randomUUID(), id];
    const text = `1 of 9 log records rejected\nrecord 7 uuid=${id}: audit.object.type: required`;
    assert.deepEqual(kinds(rejectionOutcomes(ids, 1, text)), ['unconfirmed', 'unconfirmed', 'unconfirmed']);
  });

  it('with a message naming nobody: all rejected if the count says all, else all unconfirmed', () => {
    const ids = uuids(3);
    assert.deepEqual(rejectionOutcomes(ids, 3, 'some records were dropped'), [
      { kind: 'rejected', reason: undefined },
      { kind: 'rejected', reason: undefined },
      { kind: 'rejected', reason: undefined },
    ]);
    assert.deepEqual(kinds(rejectionOutcomes(ids, 5, '')), ['rejected', 'rejected', 'rejected']);
    assert.deepEqual(kinds(rejectionOutcomes(ids, 1, 'some records were dropped')), [
      'unconfirmed',
      'unconfirmed',
      'unconfirmed',
    ]);
  });

  it('trusts the count over a message that names fewer, without inventing rejections', () => {
    const ids = uuids(4);
    // Complete (not cut) but the count says 2: one more rejected, and it could be any of the others.
    assert.deepEqual(kinds(rejectionOutcomes(ids, 2, message(ids, [1]).replace('1 of', '2 of'))), [
      'unconfirmed',
      'rejected',
      'unconfirmed',
      'unconfirmed',
    ]);
  });

  it('when the message was cut: records before the last one named are accepted, those after it in doubt', () => {
    const ids = uuids(8);
    /** A cap leaving room for the summary and two record lines. */
    const twoLines = (rejected: number[]) => message(ids, rejected).split('\n').slice(0, 3).join('\n').length;
    const rejected = [0, 2, 5, 7];
    const cut = message(ids, rejected, twoLines(rejected));
    assert.match(cut, /\nrecord 2 uuid=[^\n]*\n\.\.\. and 2 more \(see the dead-letter store\)$/);
    // 5 and 7 were rejected, 3, 4 and 6 not: after the cut (index 2) five records are unnamed for two rejections.
    assert.deepEqual(kinds(rejectionOutcomes(ids, 4, cut)), [
      'rejected',
      'accepted',
      'rejected',
      'unconfirmed',
      'unconfirmed',
      'unconfirmed',
      'unconfirmed',
      'unconfirmed',
    ]);
    // When every record after the cut was rejected, the count leaves no doubt.
    const allAfter = [0, 2, 3, 4, 5, 6, 7];
    const outcomes = rejectionOutcomes(ids, 7, message(ids, allAfter, twoLines(allAfter)));
    assert.deepEqual(kinds(outcomes), [
      'rejected',
      'accepted',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    assert.deepEqual(outcomes[7], { kind: 'rejected', reason: undefined });
    // A trailer that disagrees with the count: no conclusion is drawn from the order.
    const odd = cut.replace('... and 2 more', '... and 3 more');
    assert.deepEqual(kinds(rejectionOutcomes(ids, 4, odd)), [
      'rejected',
      'unconfirmed',
      'rejected',
      'unconfirmed',
      'unconfirmed',
      'unconfirmed',
      'unconfirmed',
      'unconfirmed',
    ]);
  });

  it('a count that is no number leaves everything unnamed unconfirmed', () => {
    const ids = uuids(3);
    assert.deepEqual(kinds(rejectionOutcomes(ids, Number('x'), message(ids, [1]))), [
      'unconfirmed',
      'rejected',
      'unconfirmed',
    ]);
  });

  it('never calls an accepted record rejected or a rejected one accepted (random requests, cut or not)', () => {
    let seed = 42;
    const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let cutRounds = 0;
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(next() * 600);
      const ids = uuids(n);
      const share = next();
      const rejected = ids.map((_, i) => i).filter(() => next() < share);
      const withUuid = next() < 0.7;
      const maxLength = next() < 0.5 ? 64 * 1024 : 50 + Math.floor(next() * 8000);
      const text = message(ids, rejected, maxLength, withUuid);
      if (text.includes('\n... and ')) cutRounds++;
      const truth = new Set(rejected);
      const outcomes = rejectionOutcomes(ids, rejected.length, text);
      outcomes.forEach((o, i) => {
        if (truth.has(i)) assert.notEqual(o.kind, 'accepted', `round ${round}: rejected record ${i} accepted`);
        else assert.notEqual(o.kind, 'rejected', `round ${round}: accepted record ${i} rejected`);
      });
      if (!text.includes('\n... and ')) {
        assert.ok(
          outcomes.every((o) => o.kind !== 'unconfirmed'),
          `round ${round}: a complete message leaves no doubt`,
        );
      }
    }
    assert.ok(cutRounds > 50, `${cutRounds} rounds had a cut message`);
  });
});
