import { rangesAbove, type ConsumerProgress, type Cursor } from '../spool/cursors.js';

/** A batch read from the spool: its records have sequence numbers in `[from, end.seq)`. */
export interface BatchSpan {
  readonly from: number;
  readonly end: Cursor;
  finished: boolean;
}

/**
 * Which of one exporter's records are finished (delivered or dead-lettered): a cursor, before which
 * everything is, and the sequence ranges above it that finished out of order (records confirmed
 * one by one, batches that finished before an older one). Both are persisted, so a restart sends
 * again only what was not confirmed. The cursor moves over batches only (a batch's end is a
 * position in the spool); the ranges are kept merged, so they stay few: about one per gap.
 */
export class DeliveryProgress {
  private cursor: Cursor;
  /** Sorted, disjoint, not touching, above `cursor.seq`. */
  private done: [number, number][];
  /** Batches in read order, not yet passed by the cursor. */
  private readonly batches: BatchSpan[] = [];
  /** The end of the last batch read. */
  private readEnd: number;

  constructor(start: ConsumerProgress) {
    this.cursor = start.cursor;
    this.done = start.done.map(([a, b]) => [a, b]);
    this.readEnd = start.cursor.seq;
  }

  /** What to persist: the cursor and the finished ranges above it. */
  snapshot(): ConsumerProgress {
    return { cursor: this.cursor, done: this.done.map(([a, b]) => [a, b] as const) };
  }

  /** Whether the record with sequence number `seq` is finished. */
  isDone(seq: number): boolean {
    if (seq < this.cursor.seq) return true;
    const i = this.indexAfter(seq) - 1;
    return i >= 0 && seq < this.done[i]![1];
  }

  /** Registers the next batch read (they come in spool order), ending at `end`. */
  begin(end: Cursor): BatchSpan {
    const span: BatchSpan = { from: this.readEnd, end, finished: false };
    this.readEnd = end.seq;
    this.batches.push(span);
    return span;
  }

  /** Records finished before their batch (confirmed one by one, in any order). */
  markDone(seqs: readonly number[]): void {
    const sorted = seqs.length === 1 ? seqs : [...seqs].sort((a, b) => a - b);
    let from = sorted[0];
    if (from === undefined) return;
    let to = from + 1;
    for (let k = 1; k < sorted.length; k++) {
      const s = sorted[k]!;
      if (s <= to) {
        to = Math.max(to, s + 1);
        continue;
      }
      this.add(from, to);
      from = s;
      to = s + 1;
    }
    this.add(from, to);
  }

  /** A batch is finished; returns true when that moved the cursor. */
  finish(span: BatchSpan): boolean {
    span.finished = true;
    this.add(span.from, span.end.seq);
    let moved = false;
    while (this.batches.length > 0 && this.batches[0]!.finished) {
      this.cursor = this.batches.shift()!.end;
      moved = true;
    }
    if (moved) this.done = rangesAbove(this.done, this.cursor.seq).map(([a, b]) => [a, b]);
    return moved;
  }

  /** Index of the first range starting after `seq`. */
  private indexAfter(seq: number): number {
    let lo = 0;
    let hi = this.done.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.done[mid]![0] <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds `[from, to)`, merging with the ranges it overlaps or touches. */
  private add(start: number, to: number): void {
    const from = Math.max(start, this.cursor.seq);
    if (to <= from) return;
    const done = this.done;
    // The first range that ends at or after `from` (it may touch or overlap).
    let i = this.indexAfter(from);
    if (i > 0 && done[i - 1]![1] >= from) i--;
    let j = i;
    let a = from;
    let b = to;
    while (j < done.length && done[j]![0] <= b) {
      a = Math.min(a, done[j]![0]);
      b = Math.max(b, done[j]![1]);
      j++;
    }
    done.splice(i, j - i, [a, b]);
  }
}
