import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { GENESIS_PREV, lineHash, parseLink, type ChainLink } from './chain.js';
import { parseCheckpointText, readCheckpointNotes, type Checkpoint } from './checkpoints.js';
import { openNote, type NoteVerifier } from './signed-note.js';
import { displayPath, type Trail } from './trail-files.js';

/*
 * Verification of a trail, in the manner of CloudTrail's validate-logs: the hash chain over every
 * line (see chain.ts), the checkpoints (signed with --key), and what only checkpoints can show —
 * that the newest records or a rotated file are gone.
 */

export interface VerifyOptions {
  /** Checkpoint signatures must verify with one of these keys (none: signatures are not checked). */
  readonly verifiers: readonly NoteVerifier[];
  /** Every record since the first must be present (no retention configured). */
  readonly complete: boolean;
}

export interface Finding {
  readonly file: string;
  /** 1-based; undefined for findings about a whole file. */
  readonly line: number | undefined;
  readonly message: string;
}

export interface TrailVerification {
  readonly trail: string;
  readonly records: number;
  readonly files: number;
  readonly unchained: number;
  readonly unchainedFiles: number;
  readonly checkpoints: number;
  readonly signaturesChecked: boolean;
  /** The first sign of tampering, if any. */
  readonly problem: Finding | undefined;
  /** Not tampering, but worth saying (e.g. the trail starts after files deleted by retention). */
  readonly notes: readonly string[];
}

interface Entry {
  readonly file: string;
  readonly line: number;
  readonly hash: string;
  readonly link: ChainLink | undefined;
}

const LOOKAHEAD = 10_000;

async function* entries(files: readonly string[]): AsyncGenerator<Entry> {
  for (const file of files) {
    const raw = createReadStream(file);
    const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    const lines = createInterface({ input, crlfDelay: Infinity });
    let line = 0;
    try {
      for await (const text of lines) {
        line++;
        if (text === '') continue;
        yield { file, line, hash: lineHash(text), link: parseLink(text) };
      }
    } finally {
      lines.close();
      raw.destroy();
    }
  }
}

/** An async iterator with look-ahead. */
class Stream {
  private readonly buffer: Entry[] = [];
  constructor(private readonly it: AsyncGenerator<Entry>) {}

  async next(): Promise<Entry | undefined> {
    if (this.buffer.length > 0) return this.buffer.shift();
    const r = await this.it.next();
    return r.done ? undefined : r.value;
  }

  /** The entry `i` places ahead (0: the next one). */
  async peek(i: number): Promise<Entry | undefined> {
    while (this.buffer.length <= i) {
      const r = await this.it.next();
      if (r.done) return undefined;
      this.buffer.push(r.value);
    }
    return this.buffer[i];
  }

  async close(): Promise<void> {
    await this.it.return(undefined);
  }
}

const at = (e: Entry) => `${displayPath(e.file)}:${e.line}`;
const find = (e: Entry, message: string): Finding => ({ file: displayPath(e.file), line: e.line, message });

interface LoadedCheckpoints {
  readonly list: Checkpoint[];
  readonly problem: Finding | undefined;
}

async function loadCheckpoints(trail: Trail, verifiers: readonly NoteVerifier[]): Promise<LoadedCheckpoints> {
  const notes = await readCheckpointNotes(trail.checkpoints);
  const list: Checkpoint[] = [];
  const file = displayPath(trail.checkpoints);
  for (const [i, { line, note }] of notes.entries()) {
    // A crash while appending can leave the last checkpoint line torn: that one is ignored.
    if (note === undefined) {
      if (i === notes.length - 1) continue;
      return { list, problem: { file, line, message: 'checkpoint line is not readable (edited?)' } };
    }
    let checkpoint: Checkpoint;
    let opened;
    try {
      opened = openNote(note, verifiers);
      checkpoint = parseCheckpointText(opened.text);
    } catch (err) {
      return { list, problem: { file, line, message: `checkpoint is not valid: ${(err as Error).message}` } };
    }
    if (verifiers.length > 0 && opened.verifiedBy.length === 0) {
      const by = opened.signedBy.length === 0 ? 'it is not signed' : `signed by ${opened.signedBy.join(', ')}`;
      return {
        list,
        problem: { file, line, message: `checkpoint signature does not verify with the given key(s) (${by})` },
      };
    }
    list.push(checkpoint);
  }
  return { list, problem: undefined };
}

export async function verifyTrail(trail: Trail, options: VerifyOptions): Promise<TrailVerification> {
  const cps = await loadCheckpoints(trail, options.verifiers);
  const bySize = new Map(cps.list.map((c) => [c.size, c]));
  const newest = cps.list.reduce<Checkpoint | undefined>(
    (m, c) => (m === undefined || c.size > m.size ? c : m),
    undefined,
  );
  const present = new Set(trail.files.map((f) => basename(f).replace(/\.gz$/, '')));
  const missingRotated = cps.list.filter((c) => c.rotated !== undefined && !present.has(c.rotated));
  const notes: string[] = [];
  let records = 0;
  let unchained = 0;
  const unchainedFiles = new Set<string>();
  let problem: Finding | undefined = cps.problem;
  let prev: Entry | undefined;
  let before: Entry | undefined;
  let chained = false;
  const stream = new Stream(entries(trail.files));
  const result = (): TrailVerification => ({
    trail: displayPath(trail.path),
    records,
    files: trail.files.length,
    unchained,
    unchainedFiles: unchainedFiles.size,
    checkpoints: cps.list.length,
    signaturesChecked: options.verifiers.length > 0,
    problem,
    notes,
  });
  if (problem !== undefined) {
    await stream.close();
    return result();
  }
  try {
    for (let e = await stream.next(); e !== undefined; before = prev, prev = e, e = await stream.next()) {
      records++;
      const link = e.link;
      if (link === undefined) {
        if (chained) {
          problem = find(
            e,
            'record without a chain field after chained records (inserted, or the chain was turned off)',
          );
          break;
        }
        unchained++;
        unchainedFiles.add(e.file);
        continue;
      }
      if (!chained) {
        chained = true;
        problem = startOfChain(e, link, prev, options, missingRotated, notes);
      } else {
        problem = await linkProblem(e, link, prev!, before, stream, missingRotated);
      }
      if (problem !== undefined) break;
      const cp = bySize.get(link.n + 1);
      if (cp !== undefined && cp.hash !== e.hash) {
        problem = find(e, `record edited: it does not match the checkpoint of ${cp.time} (record #${link.n})`);
        break;
      }
    }
  } finally {
    await stream.close();
  }
  if (problem !== undefined) return result();
  const last = prev?.link === undefined ? undefined : prev;
  const size = last === undefined ? 0 : last.link!.n + 1;
  if (newest !== undefined && newest.size > size) {
    const end = last === undefined ? 'has no chained records' : `ends with record #${size - 1} at ${at(last)}`;
    problem = {
      file: displayPath(last?.file ?? trail.path),
      line: last?.line,
      message: `the newest records were removed: the checkpoint of ${newest.time} covers ${newest.size} records, the trail ${end}`,
    };
  }
  return result();
}

function startOfChain(
  e: Entry,
  link: ChainLink,
  prev: Entry | undefined,
  options: VerifyOptions,
  missingRotated: readonly Checkpoint[],
  notes: string[],
): Finding | undefined {
  if (link.n === 0) {
    const expected = prev?.hash ?? GENESIS_PREV;
    if (link.prev === expected) return undefined;
    return prev === undefined
      ? find(e, 'the first record of the chain links to a line that is not here (removed?)')
      : find(prev, 'record edited (its hash does not match the chain of the next record)');
  }
  if (prev !== undefined) return find(e, `the chain starts at record #${link.n} after unchained records (inserted?)`);
  const gone = missingRotated.filter((c) => c.size <= link.n).map((c) => c.rotated!);
  const which = gone.length > 0 ? ` (${gone.join(', ')})` : '';
  if (options.complete) {
    return find(e, `records #0–#${link.n - 1} are missing: the oldest files were removed${which}`);
  }
  notes.push(
    `the trail starts at record #${link.n} (${at(e)}): older files were deleted by retention or removed${which}`,
  );
  return undefined;
}

async function linkProblem(
  e: Entry,
  link: ChainLink,
  prev: Entry,
  before: Entry | undefined,
  stream: Stream,
  missingRotated: readonly Checkpoint[],
): Promise<Finding | undefined> {
  const p = prev.link!.n;
  if (link.n === p + 1 && link.prev === prev.hash) return undefined;
  if (link.n === p + 1) {
    // Either the previous line changed, or this line's own link did (then the next line's link breaks too).
    const next = await stream.peek(0);
    if (next?.link !== undefined && next.link.n === link.n + 1 && next.link.prev !== e.hash) {
      return find(e, 'record edited (its chain field does not match the record before it)');
    }
    return find(prev, 'record edited (its hash does not match the chain of the next record)');
  }
  if (link.n > p + 1) {
    for (let i = 0; i < LOOKAHEAD; i++) {
      const ahead = await stream.peek(i);
      if (ahead === undefined) break;
      if (ahead.link !== undefined && ahead.link.n > p && ahead.link.n < link.n) {
        return find(e, `records out of order: record #${link.n} comes before record #${ahead.link.n} (${at(ahead)})`);
      }
    }
    const first = p + 1;
    const lastMissing = link.n - 1;
    const range = first === lastMissing ? `record #${first}` : `records #${first}–#${lastMissing}`;
    if (e.file !== prev.file) {
      const file = missingRotated.find((c) => c.size - 1 >= first && c.size - 1 <= lastMissing);
      if (file !== undefined) return find(e, `rotated file ${file.rotated!} is missing (${range} before this file)`);
      return find(e, `${range} removed before this file (a rotated file or the end of ${displayPath(prev.file)})`);
    }
    return find(e, `${range} removed before this line`);
  }
  if (link.n === p && before !== undefined && link.prev === before.hash) {
    return find(prev, `record inserted (record #${p} again after record #${p - 1})`);
  }
  const next = await stream.peek(0);
  if (next?.link !== undefined && next.link.n === p + 1 && next.link.prev === prev.hash) {
    return find(e, `record inserted (record #${link.n} again after record #${p})`);
  }
  return find(e, `records out of order: record #${link.n} comes after record #${p} (${at(prev)})`);
}
