import * as crypto from 'node:crypto';

/*
 * The hash chain of an audit file: every line ends with `"chain":{"n":<index>,"prev":"<hex>"}`, where
 * `n` counts the records of the trail from 0 and `prev` is the SHA-256 of the previous line's exact
 * bytes (without its newline), across rotation. The first chained record's `prev` is the hash of the
 * last line before it (a record written before chaining was turned on) or 64 zeros.
 */

export const GENESIS_PREV = '0'.repeat(64);
const NEWLINE = Buffer.from('\n');
const CLOSE_BRACE = 0x7d;

/** One-shot hashing (`crypto.hash`, Node ≥ 20.12) is faster than a Hash object per line. */
const sha256Hex: (data: Buffer | string) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');

export function lineHash(line: Buffer | string): string {
  return sha256Hex(line);
}

const MAX_SCRATCH_BYTES = 4 * 1024 * 1024;

/** The longest chain field: `,"chain":{"n":<up to 16 digits>,"prev":"<64 hex>"}}` and the newline. */
const MAX_SUFFIX = 14 + 16 + 9 + 64 + 3 + 1;

/** Where the chain stands: the index of the next record and the hash of the last line written. */
export interface ChainHead {
  /** Records chained so far (the next record's `n`). */
  readonly size: number;
  /** SHA-256 (hex) of the last line of the trail, or GENESIS_PREV for an empty trail. */
  readonly hash: string;
}

/** The chain fields of a line, if it has them (`{"chain":{"n":…,"prev":"…"}}` at the end). */
export interface ChainLink {
  readonly n: number;
  readonly prev: string;
}

const LINK_AT_END = /[,{]"chain":\{"n":(\d+),"prev":"([0-9a-f]{64})"\}\}$/;

/** The chain fields at the end of a line (as written by `Chain.encode`), or undefined for an unchained line. */
export function parseLink(line: string): ChainLink | undefined {
  const m = LINK_AT_END.exec(line);
  return m ? { n: Number(m[1]), prev: m[2]! } : undefined;
}

/** Lines encoded by `Chain.encode`, to be written in order; `commit` once they are on disk. */
export interface EncodedLines {
  readonly buffers: Buffer[];
  readonly bytes: number;
  commit(): void;
}

/** Turns local record JSON objects into chained lines. */
export class Chain {
  private current: ChainHead;
  /** The output buffer, reused from one write to the next (the file writes one batch at a time). */
  private scratch: Buffer | undefined;

  constructor(head: ChainHead) {
    this.current = head;
  }

  /**
   * The chain after `lastLine`, the trail's last line when the exporter starts: a chained line
   * continues its chain, an unchained one (or none) starts a new chain at 0 linked to it.
   */
  static after(lastLine: Buffer | undefined): Chain {
    if (lastLine === undefined) return new Chain({ size: 0, hash: GENESIS_PREV });
    const link = parseLink(lastLine.toString('utf8'));
    return new Chain({ size: link === undefined ? 0 : link.n + 1, hash: lineHash(lastLine) });
  }

  /** The head as of the last committed write. */
  head(): ChainHead {
    return this.current;
  }

  /**
   * The bytes of `records` (JSON objects, without newline) as chained lines. The chain moves on
   * only at `commit()`: a write that fails leaves it where it was, so the retry links the same way.
   * The lines are valid until the next call (their buffer is reused).
   */
  encode(records: readonly Buffer[]): EncodedLines {
    let { size, hash } = this.current;
    let capacity = 0;
    for (const record of records) capacity += record.length + MAX_SUFFIX;
    // All lines go into one buffer, and each line is hashed where it lies in it. The buffer is the
    // previous call's when that fits: its lines are written by then (encode runs once per flush).
    let out = this.scratch;
    if (out === undefined || out.length < capacity) {
      out = Buffer.allocUnsafe(capacity);
      this.scratch = capacity <= MAX_SCRATCH_BYTES ? out : undefined;
    }
    let pos = 0;
    for (const record of records) {
      if (record.length === 0 || record[record.length - 1] !== CLOSE_BRACE) {
        throw new Error('a local record must be a JSON object');
      }
      const start = pos;
      // The record, then the chain field over its closing brace: `,"chain":{"n":<n>,"prev":"<hex>"}}`.
      out.set(record, pos);
      pos += record.length - 1;
      if (record.length > 2) out[pos++] = 0x2c;
      pos = put(out, pos, CHAIN_N);
      pos = putDecimal(out, pos, size);
      pos = put(out, pos, PREV);
      for (let i = 0; i < 64; i++) out[pos++] = hash.charCodeAt(i);
      pos = put(out, pos, CHAIN_END);
      hash = sha256Hex(out.subarray(start, pos));
      out[pos++] = 0x0a;
      size++;
    }
    const next: ChainHead = { size, hash };
    return { buffers: [out.subarray(0, pos)], bytes: pos, commit: () => (this.current = next) };
  }
}

const CHAIN_N = Buffer.from('"chain":{"n":');
const PREV = Buffer.from(',"prev":"');
const CHAIN_END = Buffer.from('"}}');

function put(out: Buffer, pos: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) out[pos++] = bytes[i]!;
  return pos;
}

/** A non-negative integer (below 2^53) in decimal. */
function putDecimal(out: Buffer, pos: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = digits - 1, x = n; i >= 0; i--, x = Math.floor(x / 10)) out[pos + i] = 0x30 + (x % 10);
  return pos + digits;
}

/** Plain lines: the records as they are, one per line. */
export function plainLines(records: readonly Buffer[]): EncodedLines {
  const buffers: Buffer[] = [];
  let bytes = 0;
  for (const r of records) {
    buffers.push(r, NEWLINE);
    bytes += r.length + 1;
  }
  return { buffers, bytes, commit: () => undefined };
}
