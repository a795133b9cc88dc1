import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../telemetry/logger.js';
import { findNextMagic, parseEntry } from './entry-codec.js';

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

export interface TailScan {
  /** Where valid data ends: the file is cut here. */
  readonly validSize: number;
  readonly lastSeq: number;
  readonly entries: number;
  /** Bytes that were not valid entries (torn tail or damage). */
  readonly skippedBytes: number;
  /** Where damage starts, and how long it is (the torn tail included). */
  readonly damage: readonly { readonly offset: number; readonly bytes: number }[];
}

/**
 * Reads a whole segment, entry by entry, and finds where its valid data ends. A torn write at the
 * end is cut off; damage in the middle is stepped over (to the next entry that checks out).
 */
export async function scanSegment(path: string, logger: Logger): Promise<TailScan> {
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
    let at = 0;
    let lastSeq = 0;
    let entries = 0;
    let skipped = 0;
    let validSize = 0;
    const damage: { offset: number; bytes: number }[] = [];
    while (at < read) {
      const r = parseEntry(buf.subarray(0, read), at);
      if (r.kind === 'entry') {
        lastSeq = r.seq;
        entries++;
        at += r.size;
        validSize = at;
        continue;
      }
      // Incomplete at the end of the file, or damaged: look for the next entry that checks out.
      const next = nextValidEntry(buf.subarray(0, read), at + 1);
      if (next < 0) {
        skipped += read - at;
        damage.push({ offset: at, bytes: read - at });
        break;
      }
      skipped += next - at;
      damage.push({ offset: at, bytes: next - at });
      logger.warn(
        { segment: path, offset: at, bytes: next - at, reason: r.kind === 'corrupt' ? r.reason : 'truncated' },
        'skipped damaged spool data',
      );
      at = next;
    }
    return { validSize, lastSeq, entries, skippedBytes: skipped, damage };
  } finally {
    await fh.close();
  }
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
