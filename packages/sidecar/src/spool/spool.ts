import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { BackpressureError } from '../model/errors.js';
import type { SpoolInput } from '../model/spooled-record.js';
import { syncDir } from '../storage/fs-util.js';
import { GroupCommit } from '../storage/group-commit.js';
import { hasRoom, type StorageGuard } from '../storage/guard.js';
import { isOutOfSpace } from '../storage/space.js';
import { LockLostError } from '../storage/lock.js';
import { writeFully } from '../storage/write-fully.js';
import type { Logger } from '../telemetry/logger.js';
import { HEADER_SIZE, writeHeader } from './entry-codec.js';
import {
  CursorStore,
  resolveCursors,
  type ConsumerProgress,
  type Cursor,
  type CursorResetReason,
  type SeqRange,
} from './cursors.js';
import { DamageLedger, type DamageObserver, type SpoolLoss } from './damage.js';
import { loadHeadMark, saveHeadMark, type HeadMark } from './head-mark.js';
import { SpoolReader, type CacheChunk, type SpoolView } from './reader.js';
import { placeCursors, recoverSegments } from './recovery.js';
import {
  comparePositions,
  listSegments,
  removeSegment,
  segmentPath,
  type Position,
  type SegmentInfo,
} from './segments.js';
import { encodeBatch, type EncodedBatch } from './record-codec.js';

export interface SpoolOptions {
  /** Directory holding the segment files and cursors. */
  readonly directory: string;
  /** Total size of the segment files at which new records are refused (429). */
  readonly maxSizeBytes: number;
  /** A new segment is started once the active one would grow past this. */
  readonly segmentSizeBytes: number;
  /** fdatasync each write before `append` resolves (default true). */
  readonly fsync?: boolean;
  /** Recently written records kept in memory, so readers that keep up never touch the disk. */
  readonly cacheBytes: number;
  /** Who reads the spool (exporter ids); each has its own cursor. */
  readonly consumers: readonly string[];
  readonly logger: Logger;
  readonly observer?: SpoolObserver;
  /** How long cursor updates may wait before they are written (default 0: in the same turn of the event loop). */
  readonly cursorFlushMs?: number;
  /** Keep the cursors of consumers not in `consumers` (tools that open the spool with another config). */
  readonly keepOtherCursors?: boolean;
  /** Fencing and the space reserve of the storage directory (see StorageGuard). */
  readonly guard?: StorageGuard;
  /**
   * Write to a new segment rather than the newest one: the storage was taken over from a process
   * that may still run (its lock's heartbeat stopped), whose late appends must not mix with ours.
   */
  readonly startNewSegment?: boolean;
}

/** Measurements the spool reports (wired to Prometheus by the service). */
export interface SpoolObserver extends DamageObserver {
  onSync?(seconds: number): void;
  /** A consumer starts again from the oldest record because its position was lost (see cursors.ts). */
  onCursorReset?(consumer: string, reason: CursorResetReason): void;
  /** Seconds one fdatasync of the cursors took (the window in which a crash of the machine repeats deliveries). */
  onCursorSync?(seconds: number): void;
}

interface PendingAppend {
  readonly encoded: EncodedBatch;
}

/** How long a client is asked to wait when the spool is full. */
const FULL_RETRY_AFTER_MS = 2000;
/** How often the head mark is saved while records arrive. */
const HEAD_MARK_MS = 1000;
/** Least time between two fdatasyncs of the cursors (see `scheduleCursorSync`). */
const CURSOR_SYNC_MS = 25;
/** How soon a failed write or fdatasync of the cursors is tried again. */
const CURSOR_RETRY_MS = 1000;
/** How often a spool that refuses writes for lack of space looks for free space again. */
const ROOM_PROBE_MS = 1000;
/** Free space (besides the refused write) that counts as room again. */
const ROOM_MARGIN = 64 * 1024;

/**
 * The durable spool: an append-only log of segment files with a checksum per entry.
 * `append` resolves only after the records are fsynced; concurrent appends share one write and one
 * fdatasync. Each consumer (exporter) reads at its own pace from its own persisted cursor; a segment
 * is deleted once every consumer is past it.
 */
export class Spool {
  private readonly segments: SegmentInfo[];
  private active: FileHandle;
  private nextSeq: number;
  private totalBytes: number;
  private pendingBytes = 0;
  private readonly commit = new GroupCommit<PendingAppend>((items) => this.flush(items));
  private readonly cache: CacheChunk[] = [];
  private cacheSize = 0;
  private waiters: (() => void)[] = [];
  private readonly cursors: Map<string, Cursor>;
  /** Per consumer, the records finished above its cursor (see `ConsumerProgress`). */
  private readonly done = new Map<string, readonly SeqRange[]>();
  /** Cancels the scheduled write of the cursors, while one is scheduled. */
  private cancelCursorWrite: (() => void) | undefined;
  /** The next fdatasync of the cursors, while one is scheduled. */
  private cursorSyncTimer: NodeJS.Timeout | undefined;
  /** When the last fdatasync of the cursors was started (performance.now()). */
  private lastCursorSync = -Infinity;
  private cursorSave: Promise<void> = Promise.resolve();
  /** Progress changed since the last save began. */
  private cursorsChanged = true;
  private writeError: Error | undefined;
  /** The last write failed for lack of space (until a write succeeds or free space shows up). */
  private refusing: { readonly reason: string; readonly bytes: number } | undefined;
  private roomProbe: NodeJS.Timeout | undefined;
  private markTimer: NodeJS.Timeout | undefined;
  private markSave: Promise<void> = Promise.resolve();
  /** The spool deleted every segment before this one itself. */
  private firstKept: number;
  private closed = false;
  /** What readers see of the spool: enough to find, wait for and read records, nothing to change it. */
  private readonly view: SpoolView;

  private constructor(
    private readonly options: SpoolOptions,
    segments: SegmentInfo[],
    active: FileHandle,
    nextSeq: number,
    progress: Map<string, ConsumerProgress>,
    private readonly cursorStore: CursorStore,
    private readonly damage: DamageLedger,
  ) {
    this.segments = segments;
    this.active = active;
    this.nextSeq = nextSeq;
    this.totalBytes = segments.reduce((n, s) => n + s.size, 0);
    this.cursors = new Map();
    for (const [consumer, p] of progress) {
      this.cursors.set(consumer, p.cursor);
      this.done.set(consumer, p.done);
    }
    this.firstKept = segments[0]!.id;
    this.view = {
      directory: options.directory,
      logger: options.logger,
      head: () => this.head(),
      segmentSize: (id) => this.segmentSize(id),
      nextSegment: (id) => this.nextSegment(id),
      cachedAt: (position) => this.cachedAt(position),
      waitForData: () => this.waitForData(),
      isClosed: () => this.closed,
      reportLoss: (loss, placeKey, gapKey) => this.reportLoss(loss, placeKey, gapKey),
      segmentGone: (id) => this.segmentGone(id),
    };
  }

  /**
   * Opens (or creates) the spool, recovering from a crash: a torn tail is cut off, damage and lost
   * data are reported with their size (see recoverSegments).
   */
  static async open(options: SpoolOptions): Promise<Spool> {
    const dir = options.directory;
    await mkdir(dir, { recursive: true });
    const ledger = new DamageLedger(dir, options.logger, options.observer);
    await ledger.load();
    const mark = await loadHeadMark(dir);
    const recovered = await recoverSegments(dir, await listSegments(dir), mark, ledger, options.logger);
    const { segments } = recovered;
    let lastSegment = segments[segments.length - 1]!;
    if (options.startNewSegment && lastSegment.size > 0) {
      // 'wx': a segment file the previous holder created meanwhile is not ours to append to.
      for (let id = lastSegment.id + 1; ; id++) {
        const created = await open(segmentPath(dir, id), 'wx').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST' && id < lastSegment.id + 8) return undefined;
          throw err;
        });
        if (created === undefined) continue;
        await created.close();
        lastSegment = { id, size: 0 };
        segments.push(lastSegment);
        break;
      }
    }
    const active = await open(segmentPath(dir, lastSegment.id), 'a');
    await active.sync();
    await syncDir(dir);

    const head: Cursor = { segment: lastSegment.id, offset: lastSegment.size, seq: recovered.nextSeq };
    const first: Cursor = { segment: segments[0]!.id, offset: 0, seq: recovered.firstSeq };
    const { store, loaded } = await CursorStore.open(dir, options.logger);
    const resolved = resolveCursors(loaded, {
      consumers: options.consumers,
      first,
      head,
      hasData: segments.some((s) => s.size > 0),
      keepOthers: options.keepOtherCursors === true,
      logger: options.logger,
      onReset: (consumer, reason) => options.observer?.onCursorReset?.(consumer, reason),
    });
    const progress = await placeCursors(dir, resolved, recovered, mark, ledger);
    try {
      // On a full volume the space reserve makes room for the cursor files.
      await (options.guard?.withRoom ?? ((_what, write) => write()))('cursors', () => store.start(progress));
    } catch (err) {
      await active.close().catch(() => undefined);
      throw err;
    }
    const spool = new Spool(options, segments, active, recovered.nextSeq, progress, store, ledger);
    if (mark !== undefined && mark.firstSegment > spool.firstKept) spool.firstKept = mark.firstSegment;
    try {
      await spool.persistCursors(); // deletes segments no configured exporter needs
    } catch (err) {
      // A full volume must not stop the start: the cursors on disk are the ones just written, and
      // the next save (after the first delivery) deletes consumed segments.
      if (!isOutOfSpace(err)) {
        await spool.active.close().catch(() => undefined);
        throw err;
      }
      options.logger.warn({ err }, 'could not persist spool cursors at start; the volume is full');
    }
    spool.scheduleMark(0);
    await spool.checkRoom();
    return spool;
  }

  /** At start: on a volume without room (or without its space reserve) refuse from the first request. */
  private async checkRoom(): Promise<void> {
    const reserve = this.options.guard?.beforeNewData();
    const reserveWhole =
      reserve === undefined ||
      (await reserve.then(
        () => true,
        () => false,
      ));
    if (reserveWhole && (await hasRoom(this.options.directory, ROOM_MARGIN))) return;
    try {
      this.refuse(Object.assign(new Error('no space left on device (at start)'), { code: 'ENOSPC' }), 0);
    } catch {
      // refuse() throws for the write that failed; here there is none
    }
  }

  /** Stores records durably; resolves after fdatasync. Throws {@link BackpressureError} when full. */
  async append(inputs: readonly SpoolInput[]): Promise<void> {
    if (this.closed) throw new Error('the spool is closed');
    if (this.writeError) throw new Error(`the spool is not writable: ${this.writeError.message}`);
    const encoded = encodeBatch(inputs, HEADER_SIZE);
    const bytes = encoded.buffer.length;
    if (this.totalBytes + this.pendingBytes + bytes > this.options.maxSizeBytes) {
      throw new BackpressureError(
        `the spool is full (${this.totalBytes} of ${this.options.maxSizeBytes} bytes in use); retry later`,
        FULL_RETRY_AFTER_MS,
      );
    }
    this.pendingBytes += bytes;
    try {
      await this.commit.submit({ encoded });
    } finally {
      this.pendingBytes -= bytes;
    }
  }

  private async flush(items: PendingAppend[]): Promise<void> {
    const guard = this.options.guard;
    if (guard !== undefined) {
      guard.assertHeld();
      const reserve = guard.beforeNewData();
      if (reserve !== undefined) await reserve.catch((err: unknown) => this.refuse(err as Error, 0));
    }
    let total = 0;
    for (const item of items) total += item.encoded.buffer.length;
    let segment = this.segments[this.segments.length - 1]!;
    if (segment.size > 0 && segment.size + total > this.options.segmentSizeBytes) segment = await this.roll();

    // Sequence numbers are given here, in file order; headers are written into the space left for them.
    const written: CacheChunk[] = [];
    let fileOffset = segment.size;
    let seq = this.nextSeq;
    for (const { encoded } of items) {
      const { buffer, offsets } = encoded;
      for (let i = 0; i < offsets.length; i++) {
        const start = offsets[i]!;
        const end = i + 1 < offsets.length ? offsets[i + 1]! : buffer.length;
        writeHeader(buffer, start, seq++, end - start - HEADER_SIZE);
      }
      written.push({ segment: segment.id, start: fileOffset, data: buffer });
      fileOffset += buffer.length;
    }
    const start = performance.now();
    try {
      await writeFully(
        this.active,
        items.map((i) => i.encoded.buffer),
        total,
      );
      if (this.options.fsync !== false) await this.active.datasync();
    } catch (err) {
      await this.undoPartialWrite(segment, err as Error);
      if (isOutOfSpace(err)) this.refuse(err as Error, total);
      throw err;
    }
    // Acknowledge only while this process still holds the storage (fencing).
    guard?.assertHeld();
    this.refused();
    this.options.observer?.onSync?.((performance.now() - start) / 1000);
    this.nextSeq = seq;
    segment.size += total;
    this.totalBytes += total;
    this.remember(written);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    this.scheduleMark(HEAD_MARK_MS);
  }

  /** A write failed for lack of space: refuse (readiness off) until a write succeeds or room shows up. */
  private refuse(err: Error, bytes: number): never {
    if (this.refusing === undefined)
      this.options.logger.warn({ err: err.message }, 'the storage volume is full: refusing records until space frees');
    this.refusing = { reason: `spool cannot write: ${err.message}`, bytes };
    this.roomProbe ??= setInterval(() => void this.probeRoom(), ROOM_PROBE_MS).unref();
    throw err;
  }

  /** Ends the refusing state (a write worked, or there is room again). */
  private refused(): void {
    if (this.refusing === undefined) return;
    this.refusing = undefined;
    clearInterval(this.roomProbe);
    this.roomProbe = undefined;
    this.options.logger.info('the storage volume has room again: taking records');
  }

  /** While refusing: room again once the reserve is whole and the refused write would fit. */
  private async probeRoom(): Promise<void> {
    const refusing = this.refusing;
    if (refusing === undefined) return;
    const reserve = this.options.guard?.beforeNewData();
    if (
      reserve !== undefined &&
      !(await reserve.then(
        () => true,
        () => false,
      ))
    )
      return;
    if (await hasRoom(this.options.directory, refusing.bytes + ROOM_MARGIN)) this.refused();
  }

  /** After a failed write, cut the segment back so no partial entry stays behind (ENOSPC...). */
  private async undoPartialWrite(segment: SegmentInfo, cause: Error): Promise<void> {
    try {
      await this.active.truncate(segment.size);
    } catch (err) {
      this.writeError = cause;
      this.options.logger.error(
        { err, cause },
        'spool write failed and could not be undone: the spool is read-only until restart',
      );
      return;
    }
    this.options.logger.error({ err: cause }, 'spool write failed; the records were refused and the client will retry');
  }

  /**
   * Starts the next segment. The new file is opened before the current one is closed, so a failed
   * open (no inodes left) leaves the spool as it was; 'wx' because a segment file that exists
   * already was made by another process (one that took the storage over).
   */
  private async roll(): Promise<SegmentInfo> {
    const current = this.segments[this.segments.length - 1]!;
    const next: SegmentInfo = { id: current.id + 1, size: 0 };
    const fh = await open(segmentPath(this.options.directory, next.id), 'wx');
    const old = this.active;
    this.active = fh;
    this.segments.push(next);
    await old.close().catch(() => undefined);
    await syncDir(this.options.directory);
    return next;
  }

  private remember(chunks: CacheChunk[]): void {
    for (const c of chunks) {
      this.cache.push(c);
      this.cacheSize += c.data.length;
    }
    let drop = 0;
    while (this.cacheSize > this.options.cacheBytes && drop < this.cache.length - 1) {
      this.cacheSize -= this.cache[drop]!.data.length;
      drop++;
    }
    if (drop > 0) this.cache.splice(0, drop);
  }

  /** The cached bytes holding `position`, or undefined if they are no longer (or not) in memory. */
  private cachedAt(position: Position): CacheChunk | undefined {
    const cache = this.cache;
    let lo = 0;
    let hi = cache.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = cache[mid]!;
      if (
        c.segment < position.segment ||
        (c.segment === position.segment && c.start + c.data.length <= position.offset)
      )
        lo = mid + 1;
      else if (c.segment > position.segment || c.start > position.offset) hi = mid - 1;
      else return c;
    }
    return undefined;
  }

  /** The end of written data. */
  private head(): Cursor {
    const last = this.segments[this.segments.length - 1]!;
    return { segment: last.id, offset: last.size, seq: this.nextSeq };
  }

  /** Size of a segment (written bytes), or undefined when it no longer exists. */
  private segmentSize(id: number): number | undefined {
    return this.segments.find((s) => s.id === id)?.size;
  }

  /** The id of the segment after `id`, if any. */
  private nextSegment(id: number): number | undefined {
    return this.segments.find((s) => s.id > id)?.id;
  }

  /** A reader found a segment file gone (deleted by hand): forget it; never the one being written. */
  private segmentGone(id: number): void {
    const i = this.segments.findIndex((s) => s.id === id);
    if (i < 0 || i === this.segments.length - 1) return;
    this.totalBytes -= this.segments[i]!.size;
    this.segments.splice(i, 1);
  }

  /** Resolves on the next successful append (or when the spool closes). */
  private waitForData(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private reportLoss(loss: SpoolLoss, placeKey: string | undefined, gapKey: string | undefined): void {
    this.damage.report(loss, placeKey, gapKey);
  }

  /** A reader of one consumer's records, from its cursor on. */
  reader(consumer: string): SpoolReader {
    const cursor = this.cursors.get(consumer);
    if (cursor === undefined) throw new Error(`unknown spool consumer ${consumer}`);
    return new SpoolReader(this.view, consumer, cursor);
  }

  /** The sequence number the next appended record gets: every record appended later has one at least as high. */
  nextSequence(): number {
    return this.nextSeq;
  }

  /** A consumer's progress as persisted (or as opened): where its reader starts and what it finished above that. */
  progress(consumer: string): ConsumerProgress {
    const cursor = this.cursors.get(consumer);
    if (cursor === undefined) throw new Error(`unknown spool consumer ${consumer}`);
    return { cursor, done: this.done.get(consumer) ?? [] };
  }

  /**
   * Records delivery up to `cursor` (exclusive) and of the records in `done` above it (sorted,
   * disjoint ranges). Written within `cursorFlushMs` (default: in this turn of the event loop, safe
   * from a crash of the process), durable (fdatasync) in the background, at most every
   * `CURSOR_SYNC_MS`.
   */
  commitCursor(consumer: string, cursor: Cursor, done: readonly SeqRange[] = []): void {
    const current = this.cursors.get(consumer);
    if (current !== undefined && comparePositions(cursor, current) < 0) return;
    this.cursors.set(consumer, cursor);
    this.done.set(consumer, done);
    this.cursorsChanged = true;
    if (this.cancelCursorWrite !== undefined) return;
    const write = () => {
      this.cancelCursorWrite = undefined;
      try {
        this.writeProgress();
      } catch (err) {
        // persistCursors writes them again; without a retry a last confirmation would wait for the next one.
        this.options.logger.error({ err }, 'could not persist spool cursors; will retry');
      }
      this.scheduleCursorSync();
    };
    const ms = this.options.cursorFlushMs ?? 0;
    if (ms > 0) {
      const timer = setTimeout(write, ms);
      this.cancelCursorWrite = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(write);
      this.cancelCursorWrite = () => clearImmediate(immediate);
    }
  }

  /**
   * Schedules `persistCursors` (fdatasync, then freeing consumed segments) no sooner than
   * `CURSOR_SYNC_MS` after the last one began. Exporters confirm many batches a second; an
   * fdatasync for each kept the disk busy beside the spool's and the file exporter's own, and
   * slowed their group commits. What the wait risks is only redelivery after a crash of the
   * machine: the positions are in the page cache from the turn they were confirmed in.
   */
  private scheduleCursorSync(afterMs = CURSOR_SYNC_MS): void {
    if (this.cursorSyncTimer !== undefined || this.closed) return;
    const wait = Math.max(0, this.lastCursorSync + afterMs - performance.now());
    this.cursorSyncTimer = setTimeout(() => {
      this.cursorSyncTimer = undefined;
      this.lastCursorSync = performance.now();
      this.persistCursors().catch((err: unknown) => {
        if (err instanceof LockLostError) return; // fenced: the process stops, nothing is to be written
        this.options.logger.error({ err }, 'could not persist spool cursors; will retry');
        this.scheduleCursorSync(CURSOR_RETRY_MS);
      });
    }, wait);
  }

  /**
   * Puts the cursors into cursors.latest if they changed (synchronously: see CursorStore), and
   * returns the cursors that are written there now.
   */
  private writeProgress(): ReadonlyMap<string, Cursor> {
    const written = new Map(this.cursors);
    if (!this.cursorsChanged) return written;
    this.options.guard?.assertHeld();
    const progress = new Map<string, ConsumerProgress>();
    for (const [consumer, cursor] of written) progress.set(consumer, { cursor, done: this.done.get(consumer) ?? [] });
    this.cursorStore.write(progress);
    this.cursorsChanged = false;
    return written;
  }

  /**
   * Writes the cursors if they changed, makes them durable, then deletes the segments every
   * consumer is past by the cursors written. The cursors are written in place (cursors.latest is
   * preallocated), so a full volume does not stop them: delivered segments are still freed.
   */
  persistCursors(): Promise<void> {
    this.cursorSave = this.cursorSave.then(async () => {
      this.options.guard?.assertHeld();
      const written = this.writeProgress();
      if (this.cursorStore.unsynced) {
        const seconds = await this.cursorStore.sync();
        this.options.observer?.onCursorSync?.(seconds);
      }
      if (await this.deleteConsumedSegments(written)) await this.saveMark();
    });
    const saved = this.cursorSave;
    this.cursorSave = saved.catch(() => undefined); // a failed save must not block the next one
    return saved;
  }

  /** Deletes the segments every cursor of `cursors` is past; returns whether it deleted any. */
  private async deleteConsumedSegments(cursors: ReadonlyMap<string, Cursor>): Promise<boolean> {
    let min = Infinity;
    for (const c of cursors.values()) min = Math.min(min, c.segment);
    let removed = false;
    while (this.segments.length > 1 && this.segments[0]!.id < min) {
      this.options.guard?.assertHeld();
      const s = this.segments[0]!;
      await removeSegment(this.options.directory, s.id).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.segments.shift();
      this.totalBytes -= s.size;
      this.firstKept = this.segments[0]!.id;
      removed = true;
    }
    if (removed) {
      await syncDir(this.options.directory);
      this.options.guard?.spaceFreed();
    }
    return removed;
  }

  /** Saves the head mark in the next `delayMs` (once, however many writes come meanwhile). */
  private scheduleMark(delayMs: number): void {
    if (this.markTimer !== undefined || this.closed) return;
    this.markTimer = setTimeout(() => {
      this.markTimer = undefined;
      void this.saveMark();
    }, delayMs);
    this.markTimer.unref();
  }

  /** Saves the head mark now (best effort: it only sharpens loss reports). */
  private saveMark(): Promise<void> {
    this.markSave = this.markSave.then(async () => {
      const mark: HeadMark = {
        nextSeq: this.nextSeq,
        segment: this.segments[this.segments.length - 1]!.id,
        firstSegment: this.firstKept,
      };
      try {
        this.options.guard?.assertHeld();
        await saveHeadMark(this.options.directory, mark);
      } catch (err) {
        this.options.logger.debug({ err }, 'could not save the spool head mark');
      }
    });
    return this.markSave;
  }

  /** Bytes and records from a consumer's cursor to the end of the spool. */
  backlog(consumer: string): { bytes: number; records: number } {
    const c = this.cursors.get(consumer);
    if (c === undefined) return { bytes: 0, records: 0 };
    let bytes = 0;
    for (const s of this.segments) {
      if (s.id > c.segment) bytes += s.size;
      else if (s.id === c.segment) bytes += s.size - c.offset;
    }
    let done = 0;
    for (const [from, to] of this.done.get(consumer) ?? []) done += to - from;
    return { bytes, records: Math.max(0, this.nextSeq - c.seq - done) };
  }

  stats(): { bytes: number; segments: number; maxBytes: number } {
    return { bytes: this.totalBytes, segments: this.segments.length, maxBytes: this.options.maxSizeBytes };
  }

  /** Whether the last write failed for lack of space (until a write succeeds or room shows up). */
  volumeFull(): boolean {
    return this.refusing !== undefined;
  }

  /** Why the spool cannot take records now, or undefined when it can. */
  unavailable(): string | undefined {
    if (this.closed) return 'spool closed';
    if (this.writeError) return `spool not writable: ${this.writeError.message}`;
    if (this.refusing) return this.refusing.reason;
    const headroom = Math.min(1024 * 1024, this.options.maxSizeBytes * 0.05);
    if (this.totalBytes + headroom > this.options.maxSizeBytes) {
      return `spool full: ${this.totalBytes} of ${this.options.maxSizeBytes} bytes in use`;
    }
    return undefined;
  }

  /**
   * Stops without writing anything more (no cursors, no head mark): another process has taken the
   * storage over. Readers and waiting appends end.
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.cursorStore.abandon();
    await this.active.close().catch(() => undefined);
  }

  /** Closed from here on: waiting appends and readers end, no timer fires again. */
  private stop(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    this.cancelCursorWrite?.();
    this.cancelCursorWrite = undefined;
    clearTimeout(this.cursorSyncTimer);
    this.cursorSyncTimer = undefined;
    clearTimeout(this.markTimer);
    this.markTimer = undefined;
    clearInterval(this.roomProbe);
    this.roomProbe = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.commit.idle();
    this.stop();
    try {
      await this.persistCursors();
      await this.saveMark();
      await this.damage.flush();
    } finally {
      try {
        await this.cursorStore.close();
      } finally {
        await this.active.close();
      }
    }
  }
}
