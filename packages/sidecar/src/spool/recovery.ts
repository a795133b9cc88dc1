import { truncate } from 'node:fs/promises';
import type { Logger } from '../telemetry/logger.js';
import { rangesAbove, type ConsumerProgress, type Cursor } from './cursors.js';
import { gapKeyOf, placeKeyOf, type DamageLedger } from './damage.js';
import type { HeadMark } from './head-mark.js';
import {
  comparePositions,
  firstSeqOf,
  scanSegment,
  segmentPath,
  type ScanDamage,
  type SegmentInfo,
} from './segments.js';

/** The segment files as found at start, checked and repaired. */
export interface RecoveredSegments {
  /** Oldest first; never empty (an empty spool gets its first segment). */
  readonly segments: SegmentInfo[];
  /** The sequence number the next record gets. */
  readonly nextSeq: number;
  /** Sequence number of the first record in the oldest segment (`nextSeq` if there is none). */
  readonly firstSeq: number;
}

/**
 * Checks the segment files at start and reports every loss with its size: segment files missing
 * between others, damage in the newest segment (stepped over) and a torn tail (cut off), and
 * records missing at the end compared with the last head mark (a truncated or deleted newest
 * segment). A torn tail whose records come after the mark held only unacknowledged records.
 */
export async function recoverSegments(
  dir: string,
  found: SegmentInfo[],
  mark: HeadMark | undefined,
  ledger: DamageLedger,
  logger: Logger,
): Promise<RecoveredSegments> {
  if (found.length === 0) {
    // A new spool, or every segment file was deleted: go on numbering after what the mark knew.
    const id = mark === undefined ? 1 : mark.segment + 1;
    const nextSeq = mark?.nextSeq ?? 1;
    return { segments: [{ id, size: 0 }], nextSeq, firstSeq: nextSeq };
  }
  const segments = found;
  await reportMissingSegments(dir, segments, ledger);

  const last = segments[segments.length - 1]!;
  const path = segmentPath(dir, last.id);
  const scan = await scanSegment(path);
  let tail: ScanDamage | undefined;
  for (const d of scan.damage) {
    if (d.seqAfter === undefined) {
      tail = d; // up to the end of the file: cut off below
      continue;
    }
    const records = d.seqBefore > 0 ? d.seqAfter - d.seqBefore - 1 : undefined;
    ledger.report(
      {
        cause: 'damaged',
        segment: last.id,
        offset: d.offset,
        bytes: d.bytes,
        records,
        seqFrom: records === undefined ? undefined : d.seqBefore + 1,
        seqTo: records === undefined ? undefined : d.seqAfter - 1,
        uuids: d.uuids,
        detail: 'failed checksum or torn entry in the newest segment',
      },
      placeKeyOf(last.id, d.offset),
      records === undefined ? undefined : gapKeyOf(d.seqBefore + 1),
    );
  }
  if (scan.validSize !== last.size) {
    await truncate(path, scan.validSize);
    last.size = scan.validSize;
  }
  const lastSeq = scan.lastSeq > 0 ? scan.lastSeq : await lastSeqBefore(dir, segments);
  let nextSeq = lastSeq + 1;
  if (mark !== undefined && mark.nextSeq > nextSeq) {
    // Records acknowledged before the last mark are gone from the end: truncated or deleted files.
    ledger.report(
      {
        cause: 'missing',
        segment: last.id,
        offset: last.size,
        bytes: tail?.bytes ?? 0,
        records: mark.nextSeq - nextSeq,
        seqFrom: nextSeq,
        seqTo: mark.nextSeq - 1,
        uuids: tail?.uuids,
        detail:
          mark.segment > last.id
            ? `the newest segment files (${last.id + 1} to ${mark.segment}) are gone`
            : `the end of segment ${last.id} is gone (the file was cut short or replaced)`,
      },
      placeKeyOf(last.id, last.size),
      gapKeyOf(nextSeq),
    );
    // Numbers go on after the lost records, so marks taken before stay behind the head.
    nextSeq = mark.nextSeq;
  } else if (tail !== undefined) {
    // A write the crash cut short: its records were never acknowledged (their senders retry).
    logger.info(
      { segment: last.id, offset: tail.offset, bytes: tail.bytes, kept: scan.entries },
      'spool recovery: cut off an unfinished write',
    );
  }
  const firstSeq =
    segments.length === 1 && scan.entries === 0
      ? nextSeq
      : (await firstSeqOf(segmentPath(dir, segments[0]!.id))) || nextSeq;
  return { segments, nextSeq, firstSeq };
}

/** Segment ids run without gaps; a gap is files deleted by hand: reports the records they held. */
async function reportMissingSegments(dir: string, segments: SegmentInfo[], ledger: DamageLedger): Promise<void> {
  for (let i = 1; i < segments.length; i++) {
    const before = segments[i - 1]!;
    const after = segments[i]!;
    if (after.id === before.id + 1) continue;
    const lastBefore = (await scanSegment(segmentPath(dir, before.id))).lastSeq;
    const firstAfter = await firstSeqOf(segmentPath(dir, after.id));
    const records = lastBefore > 0 && firstAfter > lastBefore ? firstAfter - lastBefore - 1 : undefined;
    ledger.report(
      {
        cause: 'missing',
        segment: before.id + 1,
        offset: 0,
        bytes: 0,
        records,
        seqFrom: records === undefined ? undefined : lastBefore + 1,
        seqTo: records === undefined ? undefined : firstAfter - 1,
        detail: `segment files ${before.id + 1} to ${after.id - 1} are gone`,
      },
      placeKeyOf(before.id + 1, 0),
      records === undefined ? undefined : gapKeyOf(lastBefore + 1),
    );
  }
}

/** When the newest segment holds no entry, the last sequence number is in the ones before it. */
async function lastSeqBefore(dir: string, segments: SegmentInfo[]): Promise<number> {
  for (let i = segments.length - 2; i >= 0; i--) {
    const scan = await scanSegment(segmentPath(dir, segments[i]!.id));
    if (scan.lastSeq > 0) return scan.lastSeq;
  }
  return 0;
}

/**
 * Fits each consumer's resolved progress (see `resolveCursors`) to the segments that are there: a
 * cursor before the oldest segment moves to it (the records in between are reported as lost when
 * the spool did not delete them itself), a cursor in a segment deleted by hand moves on to the next.
 */
export async function placeCursors(
  dir: string,
  progress: ReadonlyMap<string, ConsumerProgress>,
  recovered: RecoveredSegments,
  mark: HeadMark | undefined,
  ledger: DamageLedger,
): Promise<Map<string, ConsumerProgress>> {
  const { segments, nextSeq, firstSeq } = recovered;
  const first: Cursor = { segment: segments[0]!.id, offset: 0, seq: firstSeq };
  const placed = new Map<string, ConsumerProgress>();
  let lostFrom: number | undefined;
  for (const [consumer, p] of progress) {
    const c = p.cursor;
    if (comparePositions(c, first) < 0) {
      if (c.segment >= (mark?.firstSegment ?? 0) && c.seq > 0 && c.seq < firstSeq)
        lostFrom = Math.min(lostFrom ?? Infinity, c.seq);
      placed.set(consumer, { cursor: first, done: rangesAbove(p.done, firstSeq, nextSeq) });
    } else if (!segments.some((s) => s.id === c.segment)) {
      // In a segment deleted by hand (reported with the gap at start): on at the next one.
      const next = segments.find((s) => s.id > c.segment)!;
      const seq = (await firstSeqOf(segmentPath(dir, next.id))) || c.seq;
      placed.set(consumer, { cursor: { segment: next.id, offset: 0, seq }, done: rangesAbove(p.done, seq, nextSeq) });
    } else {
      placed.set(consumer, p);
    }
  }
  if (lostFrom !== undefined) {
    ledger.report(
      {
        cause: 'missing',
        segment: first.segment - 1,
        bytes: 0,
        records: firstSeq - lostFrom,
        seqFrom: lostFrom,
        seqTo: firstSeq - 1,
        detail: `the oldest segment files (before ${first.segment}) are gone with records not yet delivered`,
      },
      undefined,
      gapKeyOf(lostFrom),
    );
  }
  return placed;
}
