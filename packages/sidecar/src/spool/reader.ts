import { open, type FileHandle } from 'node:fs/promises';
import type { Cursor } from './cursors.js';
import { parseEntry } from './entry-codec.js';
import { nextValidEntry, segmentPath } from './segments.js';
import type { Spool } from './spool.js';
import { decodePayload, type SpooledRecord } from './spooled-record.js';

export interface ReadBatch {
  readonly records: SpooledRecord[];
  /** The cursor after this batch: commit it once the batch is delivered. */
  readonly end: Cursor;
}

const READ_CHUNK = 1024 * 1024;

/**
 * Reads one consumer's records in order, from memory while it keeps up and from the segment files
 * when it is behind (after a restart or an outage). Damaged entries are skipped and counted.
 */
export class SpoolReader {
  private position: Cursor;
  private fh: FileHandle | undefined;
  private fhSegment = -1;

  constructor(
    private readonly spool: Spool,
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
      const batch = (await this.readAvailable(maxRecords, maxBytes)) ?? undefined;
      if (batch && batch.records.length > 0) return batch;
      if (batch) continue; // only records for other exporters (replays) were passed over
      const waiting = this.spool.waitForData();
      if (this.atHead()) {
        await (signal ? Promise.race([waiting, aborted(signal)]) : waiting);
      }
    }
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }

  private atHead(): boolean {
    const head = this.spool.head();
    return this.position.segment === head.segment && this.position.offset >= head.offset;
  }

  /** Records available now; undefined when there are none (at the head). */
  private async readAvailable(maxRecords: number, maxBytes: number): Promise<ReadBatch | null> {
    this.skipFinishedSegment();
    if (this.atHead()) return null;
    const cached = this.spool.cachedFrom(this.position);
    return cached
      ? this.fromCache(cached.entries, cached.index, maxRecords, maxBytes)
      : this.fromDisk(maxRecords, maxBytes);
  }

  /** At the end of a segment that is no longer written to: move on to the next one. */
  private skipFinishedSegment(): void {
    for (;;) {
      const size = this.spool.segmentSize(this.position.segment);
      const next = this.spool.nextSegment(this.position.segment);
      if (size === undefined) {
        // Deleted under us (cannot happen for a live cursor) or never existed: start at the oldest.
        this.position = { segment: this.spool.firstSegment(), offset: 0, seq: this.position.seq };
        continue;
      }
      if (next === undefined || this.position.offset < size) return;
      this.position = { segment: next, offset: 0, seq: this.position.seq };
    }
  }

  private fromCache(
    entries: readonly { segment: number; offset: number; size: number; record: SpooledRecord }[],
    index: number,
    maxRecords: number,
    maxBytes: number,
  ): ReadBatch {
    const records: SpooledRecord[] = [];
    let bytes = 0;
    let i = index;
    let last = entries[i]!;
    for (; i < entries.length && records.length < maxRecords && (bytes === 0 || bytes < maxBytes); i++) {
      const e = entries[i]!;
      if (e.segment !== last.segment && i > index) break; // keep a batch within one segment
      last = e;
      bytes += e.size;
      if (this.wants(e.record)) records.push(e.record);
    }
    this.position = { segment: last.segment, offset: last.offset + last.size, seq: last.record.seq + 1 };
    return { records, end: this.position };
  }

  private async fromDisk(maxRecords: number, maxBytes: number): Promise<ReadBatch> {
    const segment = this.position.segment;
    const size = this.spool.segmentSize(segment)!;
    if (this.fhSegment !== segment) {
      await this.fh?.close();
      this.fh = await open(segmentPath(this.spool.directory, segment), 'r');
      this.fhSegment = segment;
    }
    let want = Math.min(Math.max(READ_CHUNK, maxBytes), size - this.position.offset);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await this.fh!.read(buf, 0, want, this.position.offset);
      if (bytesRead === 0) {
        // The file is shorter than the spool believes (changed underneath): give up on this segment.
        this.spool.logger.warn(
          { consumer: this.consumer, segment, offset: this.position.offset },
          'spool segment ends early',
        );
        this.spool.reportDamage(size - this.position.offset);
        this.position = { segment, offset: size, seq: this.position.seq };
        return { records: [], end: this.position };
      }
      const data = buf.subarray(0, bytesRead);
      const records: SpooledRecord[] = [];
      let at = 0;
      let seq = this.position.seq;
      while (at < data.length && records.length < maxRecords && (at === 0 || at < maxBytes)) {
        const r = parseEntry(data, at);
        if (r.kind === 'entry') {
          const record = decodePayload(r.seq, r.payload);
          if (this.wants(record)) records.push(record);
          seq = r.seq + 1;
          at += r.size;
          continue;
        }
        if (r.kind === 'incomplete' && at > 0) break; // the rest comes with the next read
        if (r.kind === 'incomplete' && this.position.offset + r.need <= size) {
          want = r.need; // one entry larger than the chunk: read it whole
          break;
        }
        at = await this.skipDamage(data, at, size);
        break;
      }
      if (at === 0 && want > bytesRead) continue;
      this.position = { segment, offset: this.position.offset + at, seq };
      return { records, end: this.position };
    }
  }

  /** Steps over damaged bytes to the next valid entry (or the segment's end); returns the new offset in `data`. */
  private async skipDamage(data: Buffer, at: number, segmentSize: number): Promise<number> {
    let region = data;
    if (this.position.offset + data.length < segmentSize) {
      // Search the rest of the segment, not only this chunk.
      const rest = Buffer.allocUnsafe(segmentSize - this.position.offset);
      const { bytesRead } = await this.fh!.read(rest, 0, rest.length, this.position.offset);
      region = rest.subarray(0, bytesRead);
    }
    const next = nextValidEntry(region, at + 1);
    const to = next < 0 ? region.length : next;
    this.spool.logger.warn(
      { consumer: this.consumer, segment: this.position.segment, offset: this.position.offset + at, bytes: to - at },
      'skipped damaged spool data',
    );
    this.spool.reportDamage(to - at);
    return to;
  }

  private wants(record: SpooledRecord): boolean {
    return record.targets === undefined || record.targets.includes(this.consumer);
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
