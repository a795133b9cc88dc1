import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '../storage/fs-util.js';
import { readSlotFile, SlotFile } from '../storage/slot-file.js';
import type { Logger } from '../telemetry/logger.js';
import { comparePositions, type Position } from './segments.js';

/** How far a consumer (exporter) has got: everything before `position` is delivered or dead-lettered. */
export interface Cursor extends Position {
  /** Sequence number of the next record to deliver. */
  readonly seq: number;
}

/** Sequence numbers `[from, to)`. */
export type SeqRange = readonly [from: number, to: number];

/**
 * A consumer's progress: everything before `cursor`, and the records in `done` above it. With
 * several batches in flight, destinations confirm out of order; `done` keeps what they confirmed
 * beyond the oldest unconfirmed record, so that a restart does not send it again.
 */
export interface ConsumerProgress {
  readonly cursor: Cursor;
  /** Sorted, disjoint, not touching, all above `cursor.seq`. */
  readonly done: readonly SeqRange[];
}

/*
 * Two files hold the progress; at start the sidecar reads both and takes, per consumer, the
 * furthest cursor and every finished range (each file only ever states facts: what it says was
 * finished stays finished, so an older file adds duplicates at most, never a loss).
 *
 * cursors.json, the snapshot (replaced atomically: at start, at shutdown and about once a second
 * while exporters deliver). Version 1:
 * `{"version":1,"consumers":{"<id>":{"segment":8,"offset":1048,"seq":5012}}}`. Version 2 adds the
 * finished ranges above the cursor: `{"segment":8,"offset":1048,"seq":5012,"done":[[5100,5300]]}`
 * (left out when empty). A version-1 reader ignores `done`, which costs only duplicates.
 *
 * cursors.latest, written after every delivery (coalesced per turn of the event loop): the same
 * JSON in a slot file (storage/slot-file.ts: two slots of 64 KiB written in place in turn).
 */
interface StoredCursor extends Cursor {
  done?: [number, number][];
}

interface CursorFile {
  version: 1 | 2;
  consumers: Record<string, StoredCursor>;
}

export const CURSORS_FILE = 'cursors.json';
export const LATEST_FILE = 'cursors.latest';
const SLOT_BYTES = 64 * 1024;
/** How often cursors.json is rewritten while progress is saved (the latest is in cursors.latest). */
const SNAPSHOT_MS = 1000;

type Parsed = Extract<LoadedCursors, { kind: 'ok' }>;

/** What `CursorStore.open` found. */
export type LoadedCursors =
  | {
      readonly kind: 'ok';
      readonly consumers: Map<string, ConsumerProgress>;
      /** Consumers whose entry is not a valid cursor, with what is wrong with it. */
      readonly invalid: ReadonlyMap<string, string>;
    }
  /** Neither file: a new spool, or lost files (the spool tells them apart by its data). */
  | { readonly kind: 'missing' }
  /** No readable progress; a bad cursors.json was moved to `movedTo` for inspection. */
  | { readonly kind: 'unreadable'; readonly reason: string; readonly movedTo: string | undefined };

/** Reads cursors.json defensively: a bad file or entry is reported, never thrown as a bare JSON error. */
async function loadSnapshot(dir: string): Promise<LoadedCursors> {
  const path = join(dir, CURSORS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return unreadable(dir, `cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = parseCursorFile(text);
  return typeof parsed === 'string' ? unreadable(dir, `${path} ${parsed}`) : parsed;
}

/** The progress in a cursors.json text, or what is wrong with it. */
function parseCursorFile(text: string): Parsed | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return `is not valid JSON (${(err as Error).message})`;
  }
  const consumers = (parsed as { consumers?: unknown } | null)?.consumers;
  if (typeof consumers !== 'object' || consumers === null || Array.isArray(consumers)) {
    return 'has no "consumers" object';
  }
  const out = new Map<string, ConsumerProgress>();
  const invalid = new Map<string, string>();
  for (const [id, entry] of Object.entries(consumers as Record<string, unknown>)) {
    const progress = parseProgress(entry);
    if (typeof progress === 'string') invalid.set(id, progress);
    else out.set(id, progress);
  }
  return { kind: 'ok', consumers: out, invalid };
}

/** Moves an unreadable cursors.json aside (it would be replaced at the next save) and reports it. */
async function unreadable(dir: string, reason: string): Promise<LoadedCursors> {
  const movedTo = join(dir, `${CURSORS_FILE}.unreadable`);
  try {
    await rename(join(dir, CURSORS_FILE), movedTo);
    return { kind: 'unreadable', reason, movedTo };
  } catch {
    return { kind: 'unreadable', reason, movedTo: undefined };
  }
}

/** The latest valid slot of cursors.latest. */
async function loadLatest(dir: string): Promise<{ loaded: LoadedCursors; generation: number }> {
  const path = join(dir, LATEST_FILE);
  let content;
  try {
    content = await readSlotFile(path, SLOT_BYTES);
  } catch (err) {
    return {
      loaded: { kind: 'unreadable', reason: `cannot read ${path}: ${(err as Error).message}`, movedTo: undefined },
      generation: 0,
    };
  }
  if (content.kind === 'missing') return { loaded: content, generation: 0 };
  if (content.kind === 'damaged')
    return { loaded: { kind: 'unreadable', reason: `${path} has no valid slot`, movedTo: undefined }, generation: 0 };
  const parsed = parseCursorFile(content.payload.toString('utf8'));
  if (typeof parsed === 'string')
    return { loaded: { kind: 'unreadable', reason: `${path} ${parsed}`, movedTo: undefined }, generation: 0 };
  return { loaded: parsed, generation: content.generation };
}

/** Both files' facts together: per consumer the furthest cursor and every finished range above it. */
function mergeLoaded(a: Parsed, b: Parsed): Parsed {
  const consumers = new Map(a.consumers);
  for (const [id, pb] of b.consumers) {
    const pa = consumers.get(id);
    if (pa === undefined) {
      consumers.set(id, pb);
      continue;
    }
    const order = comparePositions(pa.cursor, pb.cursor);
    const cursor = order > 0 || (order === 0 && pa.cursor.seq >= pb.cursor.seq) ? pa.cursor : pb.cursor;
    consumers.set(id, { cursor, done: rangesAbove(mergeRanges([...pa.done, ...pb.done]), cursor.seq) });
  }
  const invalid = new Map<string, string>();
  for (const [id, why] of [...a.invalid, ...b.invalid]) if (!consumers.has(id)) invalid.set(id, why);
  return { kind: 'ok', consumers, invalid };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A stored entry as progress, or what is wrong with it. */
function parseProgress(entry: unknown): ConsumerProgress | string {
  if (typeof entry !== 'object' || entry === null) return 'not an object';
  const { segment, offset, seq, done } = entry as Record<string, unknown>;
  if (!isCount(segment) || !isCount(offset) || !isCount(seq)) return 'segment, offset and seq must be whole numbers';
  const cursor: Cursor = { segment, offset, seq };
  if (done === undefined) return { cursor, done: [] };
  if (!Array.isArray(done)) return 'done must be a list of [from, to] ranges';
  const ranges: SeqRange[] = [];
  for (const r of done as unknown[]) {
    if (!Array.isArray(r) || r.length !== 2 || !isCount(r[0]) || !isCount(r[1]) || r[0] >= r[1]) {
      return 'done must be a list of [from, to] ranges with from < to';
    }
    ranges.push([r[0], r[1]]);
  }
  return { cursor, done: rangesAbove(mergeRanges(ranges), seq) };
}

/** `ranges` sorted and merged (overlapping or touching ranges become one). */
export function mergeRanges(ranges: readonly SeqRange[]): SeqRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** The parts of sorted, merged `ranges` at or above `seq` (and below `limit`). */
export function rangesAbove(ranges: readonly SeqRange[], seq: number, limit = Infinity): SeqRange[] {
  const out: SeqRange[] = [];
  for (const [from, to] of ranges) {
    const a = Math.max(from, seq);
    const b = Math.min(to, limit);
    if (a < b) out.push([a, b]);
  }
  return out;
}

/** Why a consumer starts again from the oldest record in the spool. */
export type CursorResetReason = 'missing' | 'unreadable' | 'invalid';

export interface ResolveOptions {
  /** The configured consumers. */
  readonly consumers: readonly string[];
  /** The oldest record in the spool. */
  readonly first: Cursor;
  /** The end of the spool. */
  readonly head: Cursor;
  /** The spool holds records (a lost cursors.json then means positions were lost). */
  readonly hasData: boolean;
  /** Keep the progress of consumers not configured (tools opening the spool with another config). */
  readonly keepOthers: boolean;
  readonly logger: Logger;
  readonly onReset?: (consumer: string, reason: CursorResetReason) => void;
}

/**
 * Where each consumer starts. A lost, unreadable or invalid position means "from the oldest record
 * in the spool": records are delivered again rather than skipped (at least once), and the reset is
 * logged and reported. A consumer that has no entry in a readable file is an exporter added to the
 * config: it starts with the records accepted from now on (logged; see docs/operations.md).
 */
export function resolveCursors(loaded: LoadedCursors, o: ResolveOptions): Map<string, ConsumerProgress> {
  const { first, head, logger } = o;
  const fromOldest: ConsumerProgress = { cursor: first, done: [] };
  const out = new Map<string, ConsumerProgress>();
  const reset = (consumer: string, reason: CursorResetReason) => {
    out.set(consumer, fromOldest);
    o.onReset?.(consumer, reason);
  };
  if (loaded.kind !== 'ok') {
    // A tool knows only the exporters of the config it was given: the positions it would write
    // would make the sidecar's other exporters start at the end. Leave the recovery to the sidecar.
    if (o.keepOthers && (loaded.kind === 'unreadable' || o.hasData)) {
      throw new Error(
        `the spool's positions are ${loaded.kind === 'unreadable' ? `unreadable (${loaded.reason})` : 'missing'}: start the sidecar once (its exporters then deliver again from the oldest record), then run this command`,
      );
    }
    if (loaded.kind === 'unreadable') {
      logger.error(
        { reason: loaded.reason, movedTo: loaded.movedTo, exporters: o.consumers },
        'spool cursors unreadable: every exporter delivers again from the oldest record in the spool (at least once)',
      );
    } else if (o.hasData) {
      logger.warn(
        { file: CURSORS_FILE, exporters: o.consumers },
        'spool cursors missing: every exporter delivers again from the oldest record in the spool (at least once)',
      );
    }
    for (const consumer of o.consumers) {
      if (loaded.kind === 'unreadable') reset(consumer, 'unreadable');
      else if (o.hasData) reset(consumer, 'missing');
      else out.set(consumer, { cursor: head, done: [] });
    }
    return out;
  }
  for (const consumer of o.consumers) {
    const stored = loaded.consumers.get(consumer);
    const problem = loaded.invalid.get(consumer);
    if (problem !== undefined) {
      logger.warn(
        { consumer, problem },
        'spool cursor invalid: the exporter delivers again from the oldest record in the spool (at least once)',
      );
      reset(consumer, 'invalid');
    } else if (stored === undefined) {
      logger.info(
        { consumer, seq: head.seq, older: Math.max(0, head.seq - first.seq) },
        'exporter has no position in the spool yet: it gets the records accepted from now on',
      );
      out.set(consumer, { cursor: head, done: [] });
    } else if (comparePositions(stored.cursor, head) > 0) {
      logger.warn({ consumer, cursor: stored.cursor }, 'spool cursor beyond the end of the spool; resuming at the end');
      out.set(consumer, { cursor: head, done: [] });
    } else {
      out.set(consumer, { cursor: stored.cursor, done: rangesAbove(stored.done, stored.cursor.seq, head.seq) });
    }
  }
  for (const [consumer, progress] of loaded.consumers) {
    if (out.has(consumer)) continue;
    if (o.keepOthers) out.set(consumer, progress);
    else logger.warn({ consumer }, 'dropping the spool cursor of an exporter that is no longer configured');
  }
  for (const [consumer] of loaded.invalid) {
    if (out.has(consumer)) continue;
    // A tool keeps it, from the oldest record, for the sidecar that has this exporter configured.
    if (o.keepOthers) out.set(consumer, fromOldest);
    else logger.warn({ consumer }, 'dropping the spool cursor of an exporter that is no longer configured');
  }
  return out;
}

/** The JSON of cursors.json (and of a slot of cursors.latest). */
function cursorFileJson(progress: ReadonlyMap<string, ConsumerProgress>, maxRangesPerConsumer = Infinity): string {
  const consumers: Record<string, StoredCursor> = {};
  for (const [id, { cursor, done }] of progress) {
    const { segment, offset, seq } = cursor;
    const kept = done.length > maxRangesPerConsumer ? done.slice(0, maxRangesPerConsumer) : done;
    consumers[id] =
      kept.length === 0 ? { segment, offset, seq } : { segment, offset, seq, done: kept.map(([a, b]) => [a, b]) };
  }
  const body: CursorFile = { version: 2, consumers };
  return JSON.stringify(body);
}

/** Replaces cursors.json atomically (write, fsync, rename, fsync the directory). */
async function saveSnapshot(dir: string, json: string): Promise<void> {
  await writeFileAtomic(dir, CURSORS_FILE, json);
}

/**
 * Persists consumers' progress (see the file formats above). `write` puts it into cursors.latest at
 * once, synchronously: a few microseconds into the page cache, so a crash of the process (SIGKILL,
 * OOM kill) loses no confirmed delivery. `sync` makes it durable against a crash of the machine
 * (fdatasync, in the background) and rewrites cursors.json at start, at close and about once a
 * second.
 */
export class CursorStore {
  private latest: SlotFile | undefined;
  private lastSnapshot = 0;
  private snapshotting: Promise<void> | undefined;
  /** Written since the last snapshot began. */
  private snapshotBehind = false;
  private progress: ReadonlyMap<string, ConsumerProgress> = new Map();

  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    /** The generation of cursors.latest as read; undefined when it could not be read. */
    private readonly generation: number | undefined,
  ) {}

  /** Reads both files (see above); nothing is written until `start`. */
  static async open(dir: string, logger: Logger): Promise<{ store: CursorStore; loaded: LoadedCursors }> {
    const snapshot = await loadSnapshot(dir);
    const { loaded: latest, generation } = await loadLatest(dir);
    let loaded: LoadedCursors;
    if (snapshot.kind === 'ok' && latest.kind === 'ok') loaded = mergeLoaded(snapshot, latest);
    else if (snapshot.kind === 'ok' || latest.kind === 'ok') {
      loaded = snapshot.kind === 'ok' ? snapshot : latest;
      const other = snapshot.kind === 'ok' ? latest : snapshot;
      if (other.kind === 'unreadable') {
        logger.warn(
          { reason: other.reason, movedTo: other.movedTo },
          `spool cursors: one copy is unreadable; using the other (${snapshot.kind === 'ok' ? CURSORS_FILE : LATEST_FILE})`,
        );
      }
    } else if (snapshot.kind === 'unreadable') loaded = snapshot;
    else loaded = latest;
    return { store: new CursorStore(dir, logger, latest.kind === 'unreadable' ? undefined : generation), loaded };
  }

  /** Persists the progress the spool opens with: cursors.json first, then cursors.latest (created if needed). */
  async start(progress: ReadonlyMap<string, ConsumerProgress>): Promise<void> {
    this.progress = progress;
    await this.writeSnapshot();
    // Created (or recreated at its full size) only now that cursors.json holds everything.
    this.latest ??= await SlotFile.open(
      join(this.dir, LATEST_FILE),
      SLOT_BYTES,
      this.generation ?? 0,
      this.generation === undefined,
    );
    this.write(progress);
    await this.sync();
  }

  /** Puts `progress` into cursors.latest, synchronously (no fsync: see `sync`). */
  write(progress: ReadonlyMap<string, ConsumerProgress>): void {
    if (this.latest === undefined) throw new Error('the cursor store is not started');
    const room = this.latest.capacity;
    let payload = Buffer.from(cursorFileJson(progress));
    // Too many ranges for a slot: keep the lowest of each consumer; the records of the others are sent again.
    for (let keep = 1024; payload.length > room && keep >= 1; keep >>= 1)
      payload = Buffer.from(cursorFileJson(progress, keep));
    if (payload.length > room) payload = Buffer.from(cursorFileJson(progress, 0));
    this.latest.write(payload);
    this.progress = progress;
    this.snapshotBehind = true;
  }

  /** Whether something was written since the last `sync` began. */
  get unsynced(): boolean {
    return this.latest?.unsynced ?? false;
  }

  /**
   * Makes what was written durable (fdatasync of cursors.latest; returns its seconds) and rewrites
   * cursors.json in the background when a second has passed since the last time.
   */
  async sync(): Promise<number> {
    const start = performance.now();
    await this.latest?.sync();
    const seconds = (performance.now() - start) / 1000;
    if (this.snapshotBehind && this.snapshotting === undefined && Date.now() - this.lastSnapshot >= SNAPSHOT_MS) {
      this.snapshotting = this.writeSnapshot()
        .catch((err: unknown) =>
          this.logger.warn({ err }, `could not rewrite ${CURSORS_FILE}; the latest positions are in ${LATEST_FILE}`),
        )
        .finally(() => (this.snapshotting = undefined));
    }
    return seconds;
  }

  /** Writes cursors.json if something was written after the last one, and closes cursors.latest. */
  async close(): Promise<void> {
    await this.snapshotting;
    try {
      if (this.snapshotBehind) await this.writeSnapshot();
    } finally {
      await this.latest?.close();
      this.latest = undefined;
    }
  }

  /** Stops without writing anything more: another process has taken the storage over. */
  abandon(): void {
    const latest = this.latest;
    this.latest = undefined;
    this.snapshotBehind = false;
    void latest?.close().catch(() => undefined);
  }

  private async writeSnapshot(): Promise<void> {
    this.lastSnapshot = Date.now();
    this.snapshotBehind = false;
    try {
      await saveSnapshot(this.dir, cursorFileJson(this.progress));
    } catch (err) {
      this.snapshotBehind = true;
      throw err;
    }
  }
}
