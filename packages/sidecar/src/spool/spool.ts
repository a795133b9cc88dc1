import { mkdir, open, truncate, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { BackpressureError } from '../model/errors.js';
import type { SpoolInput } from '../model/spooled-record.js';
import { syncDir } from '../storage/fs-util.js';
import { GroupCommit } from '../storage/group-commit.js';
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
import { SpoolReader, type CacheChunk, type SpoolView } from './reader.js';
import {
  comparePositions,
  listSegments,
  removeSegment,
  scanSegment,
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
}

/** Measurements the spool reports (wired to Prometheus by the service). */
export interface SpoolObserver {
  onSync?(seconds: number): void;
  onDamage?(bytes: number): void;
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
  private cursorSave: Promise<void> = Promise.resolve();
  /** Progress changed since the last save began. */
  private cursorsChanged = true;
  private writeError: Error | undefined;
  private readonly damageSeen = new Set<string>();
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
    this.view = {
      directory: options.directory,
      logger: options.logger,
      head: () => this.head(),
      segmentSize: (id) => this.segmentSize(id),
      nextSegment: (id) => this.nextSegment(id),
      firstSegment: () => this.firstSegment(),
      cachedAt: (position) => this.cachedAt(position),
      waitForData: () => this.waitForData(),
      isClosed: () => this.closed,
      reportDamage: (bytes, where) => this.reportDamage(bytes, where),
    };
  }

  /** Opens (or creates) the spool, recovering from a crash: a torn or damaged tail is cut off. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const dir = options.directory;
    await mkdir(dir, { recursive: true });
    let segments = await listSegments(dir);
    let nextSeq = 1;
    const damageSeen: string[] = [];
    if (segments.length === 0) {
      segments = [{ id: 1, size: 0 }];
    } else {
      const last = segments[segments.length - 1]!;
      const scan = await scanSegment(segmentPath(dir, last.id), options.logger);
      if (scan.skippedBytes > 0) {
        options.logger.warn(
          { segment: last.id, bytes: scan.skippedBytes, kept: scan.entries },
          'spool recovery: cut off a torn or damaged tail',
        );
        options.observer?.onDamage?.(scan.skippedBytes);
        for (const d of scan.damage) damageSeen.push(`${last.id}:${d.offset}`);
      }
      if (scan.validSize !== last.size) {
        await truncate(segmentPath(dir, last.id), scan.validSize);
        last.size = scan.validSize;
      }
      nextSeq = scan.lastSeq > 0 ? scan.lastSeq + 1 : await firstSeqAfter(dir, segments, options.logger);
    }
    const lastSegment = segments[segments.length - 1]!;
    const active = await open(segmentPath(dir, lastSegment.id), 'a');
    await active.sync();
    await syncDir(dir);

    const head: Cursor = { segment: lastSegment.id, offset: lastSegment.size, seq: nextSeq };
    const first: Cursor = { segment: segments[0]!.id, offset: 0, seq: 0 };
    const { store, loaded } = await CursorStore.open(dir, options.logger);
    const cursors = resolveCursors(loaded, {
      consumers: options.consumers,
      first,
      head,
      hasData: segments.some((s) => s.size > 0),
      keepOthers: options.keepOtherCursors === true,
      logger: options.logger,
      onReset: (consumer, reason) => options.observer?.onCursorReset?.(consumer, reason),
    });
    await store.start(cursors);
    const spool = new Spool(options, segments, active, nextSeq, cursors, store);
    for (const where of damageSeen) spool.damageSeen.add(where);
    await spool.persistCursors(); // deletes segments no configured exporter needs
    return spool;
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
      throw err;
    }
    this.options.observer?.onSync?.((performance.now() - start) / 1000);
    this.nextSeq = seq;
    segment.size += total;
    this.totalBytes += total;
    this.remember(written);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
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

  private async roll(): Promise<SegmentInfo> {
    const current = this.segments[this.segments.length - 1]!;
    await this.active.close();
    const next: SegmentInfo = { id: current.id + 1, size: 0 };
    this.active = await open(segmentPath(this.options.directory, next.id), 'a');
    this.segments.push(next);
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

  private firstSegment(): number {
    return this.segments[0]!.id;
  }

  /** Resolves on the next successful append (or when the spool closes). */
  private waitForData(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Counts damaged bytes once per place (`segment:offset`), however many readers step over them. */
  private reportDamage(bytes: number, where: string): void {
    if (this.damageSeen.has(where)) return;
    this.damageSeen.add(where);
    this.options.observer?.onDamage?.(bytes);
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
   * from a crash of the process), durable (fdatasync) right after.
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
        this.options.logger.error({ err }, 'could not persist spool cursors; will retry');
        return;
      }
      void this.persistCursors().catch((err: unknown) =>
        this.options.logger.error({ err }, 'could not persist spool cursors; will retry'),
      );
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

  /** Puts the cursors into cursors.latest if they changed (synchronously: see CursorStore). */
  private writeProgress(): void {
    if (!this.cursorsChanged) return;
    const progress = new Map<string, ConsumerProgress>();
    for (const [consumer, cursor] of this.cursors)
      progress.set(consumer, { cursor, done: this.done.get(consumer) ?? [] });
    this.cursorStore.write(progress);
    this.cursorsChanged = false;
  }

  /** Writes the cursors if they changed, makes them durable, then deletes segments every consumer is past. */
  persistCursors(): Promise<void> {
    this.cursorSave = this.cursorSave.then(async () => {
      this.writeProgress();
      if (this.cursorStore.unsynced) {
        const seconds = await this.cursorStore.sync();
        this.options.observer?.onCursorSync?.(seconds);
      }
      await this.deleteConsumedSegments();
    });
    const saved = this.cursorSave;
    this.cursorSave = saved.catch(() => undefined); // a failed save must not block the next one
    return saved;
  }

  private async deleteConsumedSegments(): Promise<void> {
    let min = Infinity;
    for (const c of this.cursors.values()) min = Math.min(min, c.segment);
    let removed = false;
    while (this.segments.length > 1 && this.segments[0]!.id < min) {
      const s = this.segments.shift()!;
      await removeSegment(this.options.directory, s.id);
      this.totalBytes -= s.size;
      removed = true;
    }
    if (removed) await syncDir(this.options.directory);
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

  /** Why the spool cannot take records now, or undefined when it can. */
  unavailable(): string | undefined {
    if (this.closed) return 'spool closed';
    if (this.writeError) return `spool not writable: ${this.writeError.message}`;
    const headroom = Math.min(1024 * 1024, this.options.maxSizeBytes * 0.05);
    if (this.totalBytes + headroom > this.options.maxSizeBytes) {
      return `spool full: ${this.totalBytes} of ${this.options.maxSizeBytes} bytes in use`;
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.commit.idle();
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    this.cancelCursorWrite?.();
    this.cancelCursorWrite = undefined;
    await this.persistCursors();
    await this.cursorStore.close();
    await this.active.close();
  }
}

/** When the last segment holds no entry, the next sequence number follows the one before it. */
async function firstSeqAfter(dir: string, segments: SegmentInfo[], logger: Logger): Promise<number> {
  for (let i = segments.length - 2; i >= 0; i--) {
    const scan = await scanSegment(segmentPath(dir, segments[i]!.id), logger);
    if (scan.lastSeq > 0) return scan.lastSeq + 1;
  }
  return 1;
}
