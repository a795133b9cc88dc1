import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../storage/fs-util.js';

/**
 * What the spool last knew of itself (`queue/head.json`), saved about once a second while records
 * arrive, after segments are deleted and at shutdown. At the next start it tells lost data from
 * data that was never there: records missing at the end (a truncated or deleted last segment) and
 * oldest segments deleted by someone else rather than by the spool once every exporter was past them.
 */
export interface HeadMark {
  /** Every record with a lower sequence number was durably in the spool. */
  readonly nextSeq: number;
  /** The segment being written to. */
  readonly segment: number;
  /** The spool itself deleted every segment before this one. */
  readonly firstSegment: number;
}

const FILE = 'head.json';

export async function loadHeadMark(dir: string): Promise<HeadMark | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const m = JSON.parse(text) as { next_seq?: unknown; segment?: unknown; first_segment?: unknown };
    const n = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
    const nextSeq = n(m.next_seq);
    const segment = n(m.segment);
    const firstSegment = n(m.first_segment);
    if (nextSeq === undefined || segment === undefined || firstSegment === undefined) return undefined;
    return { nextSeq, segment, firstSegment };
  } catch {
    return undefined; // torn or edited: judged without it
  }
}

/** Replaces the mark atomically (write, fsync, rename, fsync the directory). */
export async function saveHeadMark(dir: string, mark: HeadMark): Promise<void> {
  await writeFileAtomic(
    dir,
    FILE,
    JSON.stringify({ version: 1, next_seq: mark.nextSeq, segment: mark.segment, first_segment: mark.firstSegment }),
  );
}
