import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readableUuids } from './damage.js';
import { findNextMagic, HEADER_SIZE, MAGIC, MAX_PAYLOAD, parseEntry } from './entry-codec.js';

/** A position in the spool: a segment and a byte offset in it. */
export interface Position {
  readonly segment: number;
  readonly offset: number;
}

export interface SegmentInfo {
  readonly id: number;
  size: number;
}

const SEGMENT_PATTERN = /^(\d{20})\.seg$/;

export function segmentFileName(id: number): string {
  return `${String(id).padStart(20, '0')}.seg`;
}

export function segmentPath(dir: string, id: number): string {
  return join(dir, segmentFileName(id));
}

/** Segment files in the directory, oldest first. */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  const out: SegmentInfo[] = [];
  for (const name of await readdir(dir)) {
    const m = SEGMENT_PATTERN.exec(name);
    if (!m) continue;
    out.push({ id: Number(m[1]), size: (await stat(join(dir, name))).size });
  }
  return out.sort((a, b) => a.id - b.id);
}

export function comparePositions(a: Position, b: Position): number {
  return a.segment !== b.segment ? a.segment - b.segment : a.offset - b.offset;
}

/** Damaged bytes found by a scan: where, how long, and the sequence numbers around them. */
export interface ScanDamage {
  readonly offset: number;
  readonly bytes: number;
  /** Sequence number of the last valid entry before the damage (0: none in this segment). */
  readonly seqBefore: number;
  /** Sequence number of the first valid entry after it (undefined: none, the damage runs to the end). */
  readonly seqAfter: number | undefined;
  /** uuids still readable in the damaged bytes. */
  readonly uuids: readonly string[];
}

export interface TailScan {
  /** Where valid data ends: the file is cut here. */
  readonly validSize: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly entries: number;
  /** Where damage starts, and how long it is (the torn tail included). */
  readonly damage: readonly ScanDamage[];
  /** Jumps in the sequence numbers between two valid entries with no damage between them. */
  readonly gaps: readonly { readonly offset: number; readonly seqFrom: number; readonly seqTo: number }[];
}

/**
 * Reads a whole segment, entry by entry, and finds where its valid data ends. A torn write at the
 * end is cut off; damage in the middle is stepped over (to the next entry that checks out).
 */
export async function scanSegment(path: string): Promise<TailScan> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await fh.read(buf, read, size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const data = buf.subarray(0, read);
    let at = 0;
    let firstSeq = 0;
    let lastSeq = 0;
    let entries = 0;
    let validSize = 0;
    const damage: ScanDamage[] = [];
    const gaps: { offset: number; seqFrom: number; seqTo: number }[] = [];
    let afterDamage = false;
    while (at < read) {
      const r = parseEntry(data, at);
      if (r.kind === 'entry') {
        if (firstSeq === 0) firstSeq = r.seq;
        if (lastSeq > 0 && r.seq > lastSeq + 1 && !afterDamage)
          gaps.push({ offset: at, seqFrom: lastSeq + 1, seqTo: r.seq - 1 });
        afterDamage = false;
        lastSeq = r.seq;
        entries++;
        at += r.size;
        validSize = at;
        continue;
      }
      // Incomplete at the end of the file, or damaged: look for the next entry that checks out.
      const next = nextValidEntry(data, at + 1);
      const end = next < 0 ? read : next;
      const after = next < 0 ? undefined : parseEntry(data, next);
      damage.push({
        offset: at,
        bytes: end - at,
        seqBefore: lastSeq,
        seqAfter: after?.kind === 'entry' ? after.seq : undefined,
        uuids: readableUuids(data.subarray(at, end)),
      });
      if (next < 0) break;
      afterDamage = true;
      at = next;
    }
    return { validSize, firstSeq, lastSeq, entries, damage, gaps };
  } finally {
    await fh.close();
  }
}

/** Sequence number of the first valid entry of a segment file (0: none, or the file is gone). */
export async function firstSeqOf(path: string): Promise<number> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return 0;
  }
  try {
    // Usually the first entry: read a little, and the whole file only if that does not parse.
    const head = Buffer.alloc(HEADER_SIZE);
    const { bytesRead } = await fh.read(head, 0, HEADER_SIZE, 0);
    if (bytesRead === HEADER_SIZE && head.readUInt32LE(0) === MAGIC) {
      const len = head.readUInt32LE(4);
      if (len <= MAX_PAYLOAD) {
        const entry = Buffer.alloc(HEADER_SIZE + len);
        const n = (await fh.read(entry, 0, entry.length, 0)).bytesRead;
        const r = parseEntry(entry.subarray(0, n), 0);
        if (r.kind === 'entry') return r.seq;
      }
    }
  } finally {
    await fh.close();
  }
  return (await scanSegment(path)).firstSeq;
}

/** Offset of the next complete, checksum-valid entry at or after `from`, or -1. */
export function nextValidEntry(buf: Buffer, from: number): number {
  let at = findNextMagic(buf, from);
  while (at >= 0) {
    if (parseEntry(buf, at).kind === 'entry') return at;
    at = findNextMagic(buf, at + 1);
  }
  return -1;
}

export async function removeSegment(dir: string, id: number): Promise<void> {
  await unlink(segmentPath(dir, id));
}
