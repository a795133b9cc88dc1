import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../telemetry/logger.js';
import { findNextMagic, HEADER_SIZE } from './entry-codec.js';

/**
 * Why stored records were skipped: `damaged` (bytes that fail their checksum, torn data),
 * `unreadable` (a valid checksum, but a record format this version does not know), `missing`
 * (records known to have been stored that are gone: a deleted segment file, a segment cut short,
 * a truncated end; found from gaps in the sequence numbers).
 */
export type LossCause = 'damaged' | 'unreadable' | 'missing';

/** One place where stored data was lost or skipped (a line of `queue/damaged.jsonl`). */
export interface SpoolLoss {
  readonly cause: LossCause;
  readonly segment: number;
  /** Byte offset in the segment where it starts, where known. */
  readonly offset?: number;
  /** Bytes skipped (damaged or torn data); 0 when only records are known to be gone. */
  readonly bytes: number;
  /** Records lost, where the sequence numbers tell. */
  readonly records?: number;
  /** Sequence numbers of the records lost, first to last, where known. */
  readonly seqFrom?: number;
  readonly seqTo?: number;
  /** uuids of lost records that could still be read in the damaged bytes. */
  readonly uuids?: readonly string[];
  /** The exporter whose reader found it (undefined: found at start). */
  readonly consumer?: string;
  /** What happened, in words. */
  readonly detail: string;
}

/** Counters the ledger feeds (Prometheus, through the service). */
export interface DamageObserver {
  onDamage?(bytes: number): void;
  onLostRecords?(records: number, cause: LossCause): void;
}

export const DAMAGE_JOURNAL = 'damaged.jsonl';
/** The journal stops growing here (damage on this scale needs a look at the disk, not more lines). */
const JOURNAL_MAX_BYTES = 4 * 1024 * 1024;
const MAX_UUIDS = 1000;

const UUID_IN_RECORD = /"message_uuid":"([^"\\]{1,100})"/g;

/**
 * uuids of records still readable in damaged bytes: from entries whose header and routing data
 * survived (the uuid follows the 19 fixed bytes of the payload, see record-codec), and from local
 * record JSON whose start survived (`{"message_uuid":"…"`).
 */
export function readableUuids(bytes: Buffer): string[] {
  const out = new Set<string>();
  for (let at = findNextMagic(bytes, 0); at >= 0 && out.size < MAX_UUIDS; at = findNextMagic(bytes, at + 1)) {
    const p = at + HEADER_SIZE;
    if (p + 21 > bytes.length || bytes[p] !== 1) continue;
    const n = bytes.readUInt16LE(p + 19);
    if (n === 0 || n > 100 || p + 21 + n > bytes.length) continue;
    const uuid = bytes.toString('utf8', p + 21, p + 21 + n);
    if (/^[\x21-\x7e]+$/.test(uuid)) out.add(uuid);
  }
  for (const m of bytes.toString('latin1').matchAll(UUID_IN_RECORD)) {
    if (out.size >= MAX_UUIDS) break;
    out.add(m[1]!);
  }
  return [...out];
}

/** The key of a loss's place in the spool: its bytes are counted, and journaled, once per place. */
export function placeKeyOf(segment: number | string, offset: number): string {
  return `d:${segment}:${offset}`;
}

/** The key of a gap in the sequence numbers, by its first lost number: its records are counted once. */
export function gapKeyOf(seqFrom: number): string {
  return `g:${seqFrom}`;
}

/**
 * Counts, logs and journals every loss once, however many exporters step over it: bytes once per
 * place (`placeKey`), records once per first lost sequence number (`gapKey`), so that damage seen
 * by a reader and the gap in sequence numbers it leaves are not counted twice.
 */
export class DamageLedger {
  private readonly places = new Map<string, number>();
  private readonly gaps = new Map<string, number>();
  /** Sequence numbers counted as lost so far: disjoint [from, to] ranges, in order. */
  private readonly lostSeqs: [number, number][] = [];
  private journal: Promise<void> = Promise.resolve();
  private journalBytes: number | undefined;
  /** Places and gaps the journal holds already (from earlier runs): not written again. */
  private readonly journaled = new Set<string>();

  constructor(
    private readonly directory: string,
    private readonly logger: Logger,
    private readonly observer: DamageObserver = {},
  ) {}

  /** Reads which losses the journal holds already, so that a later run does not write them again. */
  async load(): Promise<void> {
    for (const e of await readDamageJournal(this.directory)) {
      if (typeof e['offset'] === 'number') this.journaled.add(placeKeyOf(String(e['segment']), e['offset']));
      if (typeof e['seq_from'] === 'number') this.journaled.add(gapKeyOf(e['seq_from']));
    }
  }

  report(loss: SpoolLoss, placeKey: string | undefined, gapKey: string | undefined): void {
    const newBytes = placeKey === undefined ? 0 : Math.max(0, loss.bytes - (this.places.get(placeKey) ?? 0));
    // Exporters at different positions see the same loss from different starts: count each record once.
    const newRecords =
      loss.seqFrom !== undefined && loss.seqTo !== undefined
        ? this.countNew(loss.seqFrom, loss.seqTo)
        : gapKey === undefined || loss.records === undefined
          ? 0
          : Math.max(0, loss.records - (this.gaps.get(gapKey) ?? 0));
    const firstTime = placeKey !== undefined && !this.places.has(placeKey);
    if (!firstTime && newBytes === 0 && newRecords === 0) return;
    if (placeKey !== undefined) this.places.set(placeKey, Math.max(loss.bytes, this.places.get(placeKey) ?? 0));
    if (gapKey !== undefined && loss.records !== undefined)
      this.gaps.set(gapKey, Math.max(loss.records, this.gaps.get(gapKey) ?? 0));
    if (newBytes > 0) this.observer.onDamage?.(newBytes);
    if (newRecords > 0) this.observer.onLostRecords?.(newRecords, loss.cause);
    const fields = {
      cause: loss.cause,
      segment: loss.segment,
      offset: loss.offset,
      bytes: loss.bytes,
      records: loss.records,
      seqFrom: loss.seqFrom,
      seqTo: loss.seqTo,
      uuids: loss.uuids !== undefined && loss.uuids.length > 0 ? loss.uuids : undefined,
      consumer: loss.consumer,
      detail: loss.detail,
    };
    if (loss.cause === 'damaged') this.logger.warn(fields, 'skipped damaged spool data');
    else if (loss.cause === 'unreadable') this.logger.error(fields, 'skipped an unreadable spool record');
    else this.logger.error(fields, 'spool records missing');
    const known = (key: string | undefined) => key === undefined || this.journaled.has(key);
    if (known(placeKey) && known(gapKey)) return;
    if (placeKey !== undefined) this.journaled.add(placeKey);
    if (gapKey !== undefined) this.journaled.add(gapKey);
    this.append(loss);
  }

  /** Adds [from, to] to the lost sequence numbers; returns how many of them were not there yet. */
  private countNew(from: number, to: number): number {
    if (to < from) return 0;
    let added = to - from + 1;
    let lo = from;
    let hi = to;
    const kept: [number, number][] = [];
    for (const [a, b] of this.lostSeqs) {
      if (b < lo - 1 || a > hi + 1) {
        kept.push([a, b]);
        continue;
      }
      // Overlapping or adjacent: merge, and do not count what was there.
      added -= Math.max(0, Math.min(b, to) - Math.max(a, from) + 1);
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
    kept.push([lo, hi]);
    kept.sort((x, y) => x[0] - y[0]);
    this.lostSeqs.splice(0, this.lostSeqs.length, ...kept);
    return added;
  }

  /** Resolves once the journal lines written so far are on disk. */
  flush(): Promise<void> {
    return this.journal;
  }

  private append(loss: SpoolLoss): void {
    const line = `${JSON.stringify({
      time: new Date().toISOString(),
      cause: loss.cause,
      segment: loss.segment,
      offset: loss.offset,
      bytes: loss.bytes,
      records: loss.records,
      seq_from: loss.seqFrom,
      seq_to: loss.seqTo,
      uuids: loss.uuids ?? [],
      consumer: loss.consumer,
      detail: loss.detail,
    })}\n`;
    const path = join(this.directory, DAMAGE_JOURNAL);
    this.journal = this.journal.then(async () => {
      try {
        this.journalBytes ??= await stat(path).then(
          (s) => s.size,
          () => 0,
        );
        if (this.journalBytes + line.length > JOURNAL_MAX_BYTES) {
          if (this.journalBytes <= JOURNAL_MAX_BYTES) this.logger.warn({ file: path }, 'damage journal is full');
          this.journalBytes = JOURNAL_MAX_BYTES + 1;
          return;
        }
        await appendFile(path, line);
        this.journalBytes += Buffer.byteLength(line);
      } catch (err) {
        this.logger.warn({ err, file: path }, 'cannot write the damage journal');
      }
    });
  }
}

/** The journal's entries (for `otel-audit replay --list-damaged`); unreadable lines are left out. */
export async function readDamageJournal(directory: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await readFile(join(directory, DAMAGE_JOURNAL), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // a torn last line
    }
  }
  return out;
}
