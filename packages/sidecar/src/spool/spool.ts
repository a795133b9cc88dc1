import { mkdir, open, truncate, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { BackpressureError } from '../component.js';
import { syncDir } from '../storage/fs-util.js';
import { GroupCommit } from '../storage/group-commit.js';
import type { Logger } from '../telemetry/logger.js';
import { HEADER_SIZE, writeHeader } from './entry-codec.js';
import { loadCursors, saveCursors, type Cursor } from './cursors.js';
import { SpoolReader } from './reader.js';
import {
  comparePositions,
  listSegments,
  removeSegment,
  scanSegment,
  segmentPath,
  type Position,
  type SegmentInfo,
} from './segments.js';
import { encodePayload, type SpooledRecord, type SpoolInput } from './spooled-record.js';

export interface SpoolOptions {
  /** Directory holding the segment files and cursors. */
  readonly directory: string;
  /** Total size of the segment files at which new records are refused (429). */
  readonly maxSizeBytes: number;
  /** A new segment is started once the active one would grow past this. */
  readonly segmentSizeBytes: number;
  /** Recently written records kept in memory, so readers that keep up never touch the disk. */
  readonly cacheBytes: number;
  /** Who reads the spool (exporter ids); each has its own cursor. */
  readonly consumers: readonly string[];
  readonly logger: Logger;
  readonly observer?: SpoolObserver;
  /** How long cursor updates may stay in memory before they are persisted. */
  readonly cursorFlushMs?: number;
}

/** Measurements the spool reports (wired to Prometheus by the service). */
export interface SpoolObserver {
  onSync?(seconds: number): void;
  onDamage?(bytes: number): void;
}

interface CacheEntry {
  readonly segment: number;
  readonly offset: number;
  readonly size: number;
  readonly record: SpooledRecord;
}

interface PendingAppend {
  readonly inputs: readonly SpoolInput[];
  readonly payloads: readonly Buffer[];
  readonly bytes: number;
}

/** How long a client is asked to wait when the spool is full. */
const FULL_RETRY_AFTER_MS = 2000;

/**
 * The durable spool (CONTRACT §5): an append-only log of segment files with a checksum per entry.
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
  private readonly cache: CacheEntry[] = [];
  private cacheSize = 0;
  private waiters: (() => void)[] = [];
  private readonly cursors: Map<string, Cursor>;
  private cursorTimer: NodeJS.Timeout | undefined;
  private cursorSave: Promise<void> = Promise.resolve();
  private writeError: Error | undefined;
  private closed = false;

  private constructor(
    private readonly options: SpoolOptions,
    segments: SegmentInfo[],
    active: FileHandle,
    nextSeq: number,
    cursors: Map<string, Cursor>,
  ) {
    this.segments = segments;
    this.active = active;
    this.nextSeq = nextSeq;
    this.totalBytes = segments.reduce((n, s) => n + s.size, 0);
    this.cursors = cursors;
  }

  /** Opens (or creates) the spool, recovering from a crash: a torn or damaged tail is cut off. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const dir = options.directory;
    await mkdir(dir, { recursive: true });
    let segments = await listSegments(dir);
    let nextSeq = 1;
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
    const stored = await loadCursors(dir);
    const cursors = new Map<string, Cursor>();
    for (const consumer of options.consumers) {
      const c = stored.get(consumer);
      if (c === undefined) {
        cursors.set(consumer, head); // a new exporter gets records from now on
      } else if (comparePositions(c, first) < 0) {
        cursors.set(consumer, first);
      } else if (comparePositions(c, head) > 0) {
        options.logger.warn({ consumer, cursor: c }, 'spool cursor beyond the end of the spool; resuming at the end');
        cursors.set(consumer, head);
      } else {
        cursors.set(consumer, c);
      }
    }
    for (const consumer of stored.keys()) {
      if (!cursors.has(consumer)) {
        options.logger.warn({ consumer }, 'dropping the spool cursor of an exporter that is no longer configured');
      }
    }
    const spool = new Spool(options, segments, active, nextSeq, cursors);
    await spool.persistCursors();
    return spool;
  }

  get directory(): string {
    return this.options.directory;
  }

  /** Stores records durably; resolves after fdatasync. Throws {@link BackpressureError} when full. */
  async append(inputs: readonly SpoolInput[]): Promise<void> {
    if (this.closed) throw new Error('the spool is closed');
    if (this.writeError) throw new Error(`the spool is not writable: ${this.writeError.message}`);
    const payloads = inputs.map(encodePayload);
    let bytes = 0;
    for (const p of payloads) bytes += HEADER_SIZE + p.length;
    if (this.totalBytes + this.pendingBytes + bytes > this.options.maxSizeBytes) {
      throw new BackpressureError(
        `the spool is full (${this.totalBytes} of ${this.options.maxSizeBytes} bytes in use); retry later`,
        FULL_RETRY_AFTER_MS,
      );
    }
    this.pendingBytes += bytes;
    try {
      await this.commit.submit({ inputs, payloads, bytes });
    } finally {
      this.pendingBytes -= bytes;
    }
  }

  private async flush(items: PendingAppend[]): Promise<void> {
    let total = 0;
    for (const item of items) total += item.bytes;
    let segment = this.segments[this.segments.length - 1]!;
    if (segment.size > 0 && segment.size + total > this.options.segmentSizeBytes) segment = await this.roll();

    const buf = Buffer.allocUnsafe(total);
    const written: CacheEntry[] = [];
    let at = 0;
    let seq = this.nextSeq;
    for (const item of items) {
      for (let i = 0; i < item.payloads.length; i++) {
        const payload = item.payloads[i]!;
        writeHeader(buf, at, seq, payload);
        payload.copy(buf, at + HEADER_SIZE);
        const size = HEADER_SIZE + payload.length;
        written.push({ segment: segment.id, offset: segment.size + at, size, record: { ...item.inputs[i]!, seq } });
        at += size;
        seq++;
      }
    }
    const start = performance.now();
    try {
      let done = 0;
      while (done < total) done += (await this.active.write(buf, done, total - done)).bytesWritten;
      await this.active.datasync();
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

  private remember(entries: CacheEntry[]): void {
    for (const e of entries) {
      this.cache.push(e);
      this.cacheSize += e.size;
    }
    let drop = 0;
    while (this.cacheSize > this.options.cacheBytes && drop < this.cache.length - 1) {
      this.cacheSize -= this.cache[drop]!.size;
      drop++;
    }
    if (drop > 0) this.cache.splice(0, drop);
  }

  /** Cached entries from `position` on (the position must be an entry start), or undefined if not cached. */
  cachedFrom(position: Position): { entries: readonly CacheEntry[]; index: number } | undefined {
    const cache = this.cache;
    if (cache.length === 0 || comparePositions(position, cache[0]!) < 0) return undefined;
    let lo = 0;
    let hi = cache.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = comparePositions(cache[mid]!, position);
      if (c === 0) return { entries: cache, index: mid };
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The end of written data. */
  head(): Cursor {
    const last = this.segments[this.segments.length - 1]!;
    return { segment: last.id, offset: last.size, seq: this.nextSeq };
  }

  /** Size of a segment (written bytes), or undefined when it no longer exists. */
  segmentSize(id: number): number | undefined {
    return this.segments.find((s) => s.id === id)?.size;
  }

  /** The id of the segment after `id`, if any. */
  nextSegment(id: number): number | undefined {
    return this.segments.find((s) => s.id > id)?.id;
  }

  firstSegment(): number {
    return this.segments[0]!.id;
  }

  /** Resolves on the next successful append (or when the spool closes). */
  waitForData(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  isClosed(): boolean {
    return this.closed;
  }

  reportDamage(bytes: number): void {
    this.options.observer?.onDamage?.(bytes);
  }

  get logger(): Logger {
    return this.options.logger;
  }

  reader(consumer: string): SpoolReader {
    const cursor = this.cursors.get(consumer);
    if (cursor === undefined) throw new Error(`unknown spool consumer ${consumer}`);
    return new SpoolReader(this, consumer, cursor);
  }

  cursor(consumer: string): Cursor | undefined {
    return this.cursors.get(consumer);
  }

  /** Records delivery up to `cursor` (exclusive); persisted within `cursorFlushMs`. */
  commitCursor(consumer: string, cursor: Cursor): void {
    const current = this.cursors.get(consumer);
    if (current !== undefined && comparePositions(cursor, current) <= 0) return;
    this.cursors.set(consumer, cursor);
    this.cursorTimer ??= setTimeout(() => {
      this.cursorTimer = undefined;
      void this.persistCursors().catch((err: unknown) =>
        this.options.logger.error({ err }, 'could not persist spool cursors; will retry'),
      );
    }, this.options.cursorFlushMs ?? 200);
  }

  /** Writes the cursors, then deletes segments every consumer is past. */
  persistCursors(): Promise<void> {
    this.cursorSave = this.cursorSave.then(async () => {
      await saveCursors(this.options.directory, new Map(this.cursors));
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
    return { bytes, records: Math.max(0, this.nextSeq - c.seq) };
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
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = undefined;
    await this.persistCursors();
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
