import { open, type FileHandle } from 'node:fs/promises';
import type { SpooledRecord } from '../model/spooled-record.js';
import type { Logger } from '../telemetry/logger.js';
import type { Cursor } from './cursors.js';
import { gapKeyOf, placeKeyOf, readableUuids, type SpoolLoss } from './damage.js';
import { parseEntry } from './entry-codec.js';
import { decodePayload } from './record-codec.js';
import { nextValidEntry, segmentPath, type Position } from './segments.js';

/**
 * Bytes just written, kept in memory so readers that keep up never read the disk. Raw bytes rather
 * than record objects: Buffers live outside the JS heap, which keeps garbage collection cheap (a
 * cache of objects was measured 15% slower end to end).
 */
export interface CacheChunk {
  readonly segment: number;
  /** File offset of `data[0]` in the segment. */
  readonly start: number;
  readonly data: Buffer;
}

/** What a reader needs of the spool it reads (the spool hands it out; readers change nothing in it). */
export interface SpoolView {
  readonly directory: string;
  readonly logger: Logger;
  /** The end of written data. */
  head(): Cursor;
  /** Size of a segment (written bytes), or undefined when it no longer exists. */
  segmentSize(id: number): number | undefined;
  /** The id of the segment after `id`, if any. */
  nextSegment(id: number): number | undefined;
  /** The cached bytes holding `position`, or undefined if they are no longer (or not) in memory. */
  cachedAt(position: Position): CacheChunk | undefined;
  /** Resolves on the next successful append (or when the spool closes). */
  waitForData(): Promise<void>;
  isClosed(): boolean;
  /**
   * Logs and counts lost or skipped data once, however many readers step over it: bytes once per
   * `placeKey`, records once per `gapKey` (see DamageLedger).
   */
  reportLoss(loss: SpoolLoss, placeKey: string | undefined, gapKey: string | undefined): void;
  /** A segment file that is not the one being written is gone: the spool forgets it. */
  segmentGone(id: number): void;
}

export interface ReadBatch {
  readonly records: SpooledRecord[];
  /** The cursor after this batch: commit it once the batch is delivered. */
  readonly end: Cursor;
}

/** How much a reader that is behind reads from a segment file at once (an entry larger than this is read whole). */
const READ_CHUNK = 1024 * 1024;

/** What parsing a stretch of bytes gave. */
interface Parsed {
  readonly records: SpooledRecord[];
  /** Bytes consumed from the start of the stretch. */
  readonly consumed: number;
  readonly nextSeq: number;
  /** The first entry did not fit: this many bytes are needed. */
  readonly need?: number;
  /** Damage found at this offset of the stretch (nothing consumed past it). */
  readonly damageAt?: number;
}

/**
 * Reads one consumer's records in order: from the spool's in-memory copy of recent writes while it
 * keeps up, from the segment files when it is behind (after a restart or an outage). Damaged
 * entries are skipped and counted.
 */
export class SpoolReader {
  private position: Cursor;
  private fh: FileHandle | undefined;
  private fhSegment = -1;
  /** The last stretch read from disk: a reader that is behind reads a few batches' worth at a time. */
  private readAhead: CacheChunk | undefined;

  constructor(
    private readonly spool: SpoolView,
    private readonly consumer: string,
    start: Cursor,
  ) {
    this.position = start;
  }

  /**
   * The next records (at most `maxRecords`, about `maxBytes`), waiting until there is at least one.
   * Resolves with undefined once the spool closes or `signal` aborts.
   */
  async read(maxRecords: number, maxBytes: number, signal?: AbortSignal): Promise<ReadBatch | undefined> {
    for (;;) {
      if (signal?.aborted || this.spool.isClosed()) return undefined;
      const batch = await this.readAvailable(maxRecords, maxBytes);
      if (batch && batch.records.length > 0) return batch;
      if (batch) continue; // only damage or records for other exporters (replays) were passed over
      const waiting = this.spool.waitForData();
      if (this.atHead()) await (signal ? untilAborted(waiting, signal) : waiting);
    }
  }

  async close(): Promise<void> {
    this.readAhead = undefined;
    await this.fh?.close();
    this.fh = undefined;
  }

  private atHead(): boolean {
    const head = this.spool.head();
    return this.position.segment === head.segment && this.position.offset >= head.offset;
  }

  /** Records available now; undefined when there are none (at the head). */
  private async readAvailable(maxRecords: number, maxBytes: number): Promise<ReadBatch | undefined> {
    this.skipFinishedSegment();
    this.dropReadAheadBehind();
    if (this.atHead()) return undefined;
    const cached = this.spool.cachedAt(this.position);
    if (cached) {
      // The bytes just written, checksummed as they were written: no need to check them again.
      const parsed = this.parse(cached.data.subarray(this.position.offset - cached.start), maxRecords, maxBytes, false);
      // Cached bytes are what was just written; should they not parse, the disk path handles it.
      if (parsed.consumed > 0) return this.advance(parsed);
    }
    const ahead = this.readAhead;
    if (ahead !== undefined && this.position.offset >= ahead.start) {
      const parsed = this.parse(ahead.data.subarray(this.position.offset - ahead.start), maxRecords, maxBytes);
      // An entry cut off at the end of the stretch, or damage: read afresh from here.
      if (parsed.consumed > 0) return this.advance(parsed);
    }
    return this.fromDisk(maxRecords, maxBytes);
  }

  /** Forgets the stretch read ahead once the position is no longer in it (so its memory can go). */
  private dropReadAheadBehind(): void {
    const ahead = this.readAhead;
    if (
      ahead !== undefined &&
      (ahead.segment !== this.position.segment ||
        this.position.offset < ahead.start ||
        this.position.offset >= ahead.start + ahead.data.length)
    )
      this.readAhead = undefined;
  }

  /** At the end of a segment that is no longer written to: move on to the next one. */
  private skipFinishedSegment(): void {
    for (;;) {
      const size = this.spool.segmentSize(this.position.segment);
      const next = this.spool.nextSegment(this.position.segment);
      if (size === undefined) {
        // Gone (deleted by hand) or never existed: go on with the next segment there is. The gap in
        // the sequence numbers there says how many records were lost.
        this.position = { segment: next ?? this.spool.head().segment, offset: 0, seq: this.position.seq };
        continue;
      }
      if (next === undefined || this.position.offset < size) return;
      this.position = { segment: next, offset: 0, seq: this.position.seq };
    }
  }

  private parse(data: Buffer, maxRecords: number, maxBytes: number, checksum = true): Parsed {
    const records: SpooledRecord[] = [];
    let at = 0;
    let nextSeq = this.position.seq;
    while (at < data.length && records.length < maxRecords && (at === 0 || at < maxBytes)) {
      const r = parseEntry(data, at, checksum);
      if (r.kind === 'entry') {
        // Sequence numbers run without gaps: a jump means records that were stored are gone.
        if (r.seq > nextSeq && nextSeq > 0) this.gap(nextSeq, r.seq, this.position.offset + at);
        let record: SpooledRecord | undefined;
        try {
          record = decodePayload(r.seq, r.payload);
        } catch (err) {
          // Checksum fine but unreadable (written by a newer version?): skip it, loudly.
          const offset = this.position.offset + at;
          this.spool.reportLoss(
            {
              cause: 'unreadable',
              segment: this.position.segment,
              offset,
              bytes: r.size,
              records: 1,
              seqFrom: r.seq,
              seqTo: r.seq,
              uuids: readableUuids(r.payload),
              consumer: this.consumer,
              detail: (err as Error).message,
            },
            placeKeyOf(this.position.segment, offset),
            gapKeyOf(r.seq),
          );
        }
        if (record !== undefined && (record.targets === undefined || record.targets.includes(this.consumer)))
          records.push(record);
        nextSeq = r.seq + 1;
        at += r.size;
      } else if (r.kind === 'incomplete') {
        return at > 0 ? { records, consumed: at, nextSeq } : { records, consumed: 0, nextSeq, need: r.need };
      } else {
        return { records, consumed: at, nextSeq, damageAt: at };
      }
    }
    return { records, consumed: at, nextSeq };
  }

  /** Records `from` to `to - 1` are missing before the entry at `offset` of the current segment. */
  private gap(from: number, to: number, offset: number): void {
    this.spool.reportLoss(
      {
        cause: 'missing',
        segment: this.position.segment,
        offset,
        bytes: 0,
        records: to - from,
        seqFrom: from,
        seqTo: to - 1,
        consumer: this.consumer,
        detail: 'a gap in the sequence numbers: stored records are gone (a segment file deleted or cut short)',
      },
      undefined,
      gapKeyOf(from),
    );
  }

  private advance(parsed: Parsed): ReadBatch {
    this.position = {
      segment: this.position.segment,
      offset: this.position.offset + parsed.consumed,
      seq: parsed.nextSeq,
    };
    return { records: parsed.records, end: this.position };
  }

  private async fromDisk(maxRecords: number, maxBytes: number): Promise<ReadBatch> {
    const segment = this.position.segment;
    const size = this.spool.segmentSize(segment)!;
    if (this.fhSegment !== segment) {
      await this.fh?.close();
      this.fh = undefined;
      this.fhSegment = -1;
      try {
        this.fh = await open(segmentPath(this.spool.directory, segment), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || this.spool.nextSegment(segment) === undefined)
          throw err;
        return this.segmentMissing(size);
      }
      this.fhSegment = segment;
    }
    let want = Math.min(READ_CHUNK, size - this.position.offset);
    for (;;) {
      const data = await this.readAt(this.position.offset, want);
      // What this batch does not take is kept for the next ones (instead of being read again).
      this.readAhead = { segment, start: this.position.offset, data };
      if (data.length === 0) return this.giveUpSegment(size, 'spool segment ends early');
      const parsed = this.parse(data, maxRecords, maxBytes);
      if (parsed.need !== undefined) {
        if (this.position.offset + parsed.need <= size && parsed.need > want) {
          want = parsed.need; // one entry larger than the chunk: read it whole
          continue;
        }
        // An entry runs past the end of its segment: damage.
        return this.advance({ ...parsed, consumed: await this.skipDamage(0, size, parsed.nextSeq) });
      }
      if (parsed.damageAt !== undefined && parsed.records.length === 0) {
        return this.advance({ ...parsed, consumed: await this.skipDamage(parsed.damageAt, size, parsed.nextSeq) });
      }
      return this.advance(parsed);
    }
  }

  private async readAt(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.fh!.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  }

  private giveUpSegment(size: number, why: string): ReadBatch {
    const { segment, offset } = this.position;
    this.spool.logger.warn({ consumer: this.consumer, segment, offset }, why);
    this.spool.reportLoss(
      {
        cause: 'missing',
        segment,
        offset,
        bytes: size - offset,
        consumer: this.consumer,
        detail: `${why}: the file is shorter than what was written to it`,
      },
      placeKeyOf(segment, offset),
      undefined,
    );
    return this.advance({ records: [], consumed: size - offset, nextSeq: this.position.seq });
  }

  /** The current segment's file is gone: on to the next segment (whose first record shows how many were lost). */
  private segmentMissing(size: number): ReadBatch {
    const { segment, offset } = this.position;
    this.spool.reportLoss(
      {
        cause: 'missing',
        segment,
        offset,
        bytes: size - offset,
        consumer: this.consumer,
        detail: 'the segment file was deleted',
      },
      placeKeyOf(segment, offset),
      undefined,
    );
    this.spool.segmentGone(segment);
    return this.advance({ records: [], consumed: size - offset, nextSeq: this.position.seq });
  }

  /**
   * Bytes from the current position to the next valid entry after the damage at `from` (or to the
   * segment's end). `seq` is the sequence number the first damaged record had: with the next valid
   * entry's, it says how many records the damage took.
   */
  private async skipDamage(from: number, segmentSize: number, seq: number): Promise<number> {
    const rest = await this.readAt(this.position.offset, segmentSize - this.position.offset);
    const next = nextValidEntry(rest, from + 1);
    const to = next < 0 ? rest.length : next;
    const after = next < 0 ? undefined : parseEntry(rest, next);
    const nextSeq = after?.kind === 'entry' ? after.seq : undefined;
    const records = nextSeq !== undefined && seq > 0 && nextSeq >= seq ? nextSeq - seq : undefined;
    const offset = this.position.offset + from;
    this.spool.reportLoss(
      {
        cause: 'damaged',
        segment: this.position.segment,
        offset,
        bytes: to - from,
        records,
        seqFrom: records === undefined ? undefined : seq,
        seqTo: records === undefined ? undefined : seq + records - 1,
        uuids: readableUuids(rest.subarray(from, to)),
        consumer: this.consumer,
        detail: next < 0 ? 'damaged to the end of the segment' : 'failed checksum or torn entry',
      },
      placeKeyOf(this.position.segment, offset),
      records === undefined ? undefined : gapKeyOf(seq),
    );
    return to;
  }
}

/** `waiting`, or earlier if `signal` aborts; the abort listener is removed again (a reader waits once per commit). */
function untilAborted(waiting: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void waiting.then(done, done);
  });
}
