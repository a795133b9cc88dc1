import { parseRejectionMessage, type ParsedRejectionMessage } from '@otel-audit/semconv';

/** What a partial-success response says about one record of the request. */
export type RecordOutcome =
  | { readonly kind: 'accepted' }
  /** `reason` is undefined when the count proves the record rejected but the message does not name it. */
  | { readonly kind: 'rejected'; readonly reason: string | undefined }
  /** Rejected or durably accepted: the response does not tell which. */
  | { readonly kind: 'unconfirmed' };

const ACCEPTED: RecordOutcome = { kind: 'accepted' };
const UNCONFIRMED: RecordOutcome = { kind: 'unconfirmed' };

/**
 * Which records of a request the receiver rejected. `uuids` are the request's records in the order
 * they were sent; `rejectedCount` is partial_success.rejected_log_records, trusted for how many were
 * rejected; the message only tells which ones (otel-audit's format; anything else names none).
 *
 * The rule: a record is `rejected` when the message names it, or when the count leaves no other
 * possibility; `accepted` when the count and the message together rule its rejection out; otherwise
 * `unconfirmed`. An accepted record is never reported as rejected. The message lists records in
 * request order and its 64 KiB cap cuts off the tail, so when it is cut, the records before the
 * last one named are accepted unless named, and only those after it are in doubt: with `k` of them
 * left unnamed and `m` rejected ones missing from the list, they are all `rejected` if `k = m`, all
 * `unconfirmed` if `k > m`.
 */
export function rejectionOutcomes(uuids: readonly string[], rejectedCount: number, message: string): RecordOutcome[] {
  const n = uuids.length;
  if (rejectedCount === 0) return uuids.map(() => ACCEPTED);
  const parsed = parseRejectionMessage(message);
  if (!(rejectedCount > 0)) {
    // A count that is not a number says nothing: only the records the message names are known.
    const named = parsed === undefined ? new Map<number, string>() : reasonsByUuid(parsed, uuids);
    return uuids.map((_, i) => rejectedOr(named, i, UNCONFIRMED));
  }
  const count = Math.min(rejectedCount, n);
  const ordered = parsed !== undefined && inRequestOrder(parsed, uuids, rejectedCount);
  const reasons = ordered
    ? reasonsByIndex(parsed)
    : parsed === undefined
      ? new Map<number, string>()
      : reasonsByUuid(parsed, uuids);

  const missing = count - reasons.size; // rejected records the message does not place
  if (missing <= 0) return uuids.map((_, i) => rejectedOr(reasons, i, ACCEPTED));

  let inDoubt = uuids.map((_, i) => i).filter((i) => !reasons.has(i));
  if (ordered && parsed.truncated && parsed.omitted === missing) {
    const lastNamed = Math.max(-1, ...reasons.keys());
    const afterCut = inDoubt.filter((i) => i > lastNamed);
    if (afterCut.length >= missing) inDoubt = afterCut;
  }
  const doubtful = new Set(inDoubt);
  const unnamed: RecordOutcome = inDoubt.length === missing ? { kind: 'rejected', reason: undefined } : UNCONFIRMED;
  return uuids.map((_, i) => rejectedOr(reasons, i, doubtful.has(i) ? unnamed : ACCEPTED));
}

function rejectedOr(reasons: ReadonlyMap<number, string>, i: number, otherwise: RecordOutcome): RecordOutcome {
  const reason = reasons.get(i);
  return reason === undefined ? otherwise : { kind: 'rejected', reason };
}

/**
 * Whether the message's indexes are positions in this request: its counts match, its lines ascend
 * and every uuid it gives is the uuid sent at that position (so `uuid=-` lines can be placed too).
 */
function inRequestOrder(parsed: ParsedRejectionMessage, uuids: readonly string[], rejectedCount: number): boolean {
  if (parsed.received !== uuids.length || parsed.rejected !== rejectedCount) return false;
  let previous = -1;
  for (const r of parsed.records) {
    if (r.index <= previous || r.index >= uuids.length) return false;
    if (r.uuid !== undefined && r.uuid.toLowerCase() !== uuids[r.index]!.toLowerCase()) return false;
    previous = r.index;
  }
  return true;
}

function reasonsByIndex(parsed: ParsedRejectionMessage): Map<number, string> {
  return new Map(parsed.records.map((r) => [r.index, r.reason]));
}

/** Places lines by uuid alone; a line without one, or with a uuid sent more than once, places nothing. */
function reasonsByUuid(parsed: ParsedRejectionMessage, uuids: readonly string[]): Map<number, string> {
  const positions = new Map<string, number>();
  uuids.forEach((u, i) => {
    const key = u.toLowerCase();
    positions.set(key, positions.has(key) ? -1 : i);
  });
  const reasons = new Map<number, string>();
  for (const r of parsed.records) {
    const i = r.uuid === undefined ? undefined : positions.get(r.uuid.toLowerCase());
    if (i !== undefined && i >= 0) reasons.set(i, r.reason);
  }
  return reasons;
}
