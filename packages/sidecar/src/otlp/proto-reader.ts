import { isUtf8 } from 'node:buffer';
import { OtlpDecodeError } from './errors.js';

/** Protobuf wire types. */
export const WireType = { Varint: 0, I64: 1, Len: 2, SGroup: 3, EGroup: 4, I32: 5 } as const;

/** Deepest nesting of (unknown) groups skipped; as deep as `max_nesting_depth` may be set. */
export const MAX_GROUP_DEPTH = 64;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A minimal protobuf wire-format reader over one buffer. Every read is bounds-checked against
 * `end` and throws {@link OtlpDecodeError} on truncated or malformed input.
 */
export class ProtoReader {
  pos: number;
  /**
   * Set when a string or key read was not valid UTF-8 (it is returned with U+FFFD in place of the
   * bad bytes); the decoder turns it into a rejection of the record, or of the request, and clears it.
   */
  malformed = false;
  private readonly view: DataView;

  constructor(
    readonly buf: Buffer,
    pos = 0,
    public end = buf.length,
  ) {
    this.pos = pos;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /**
   * A varint that must fit in 32 bits (tags, lengths, uint32 fields). A larger value is refused,
   * not truncated: a length or tag of 2^32 or more cannot be meant, and losing its high bits would
   * read the message wrongly.
   */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++]!;
    let value = b & 0x7f;
    if (b < 0x80) return this.done(pos, value);
    b = buf[pos++]!;
    value |= (b & 0x7f) << 7;
    if (b < 0x80) return this.done(pos, value);
    b = buf[pos++]!;
    value |= (b & 0x7f) << 14;
    if (b < 0x80) return this.done(pos, value);
    b = buf[pos++]!;
    value |= (b & 0x7f) << 21;
    if (b < 0x80) return this.done(pos, value);
    b = buf[pos++]!;
    if (b < 0x10) return this.done(pos, (value | (b << 28)) >>> 0);
    if (pos > this.end) throw new OtlpDecodeError(`truncated varint at byte ${this.pos}`);
    throw new OtlpDecodeError(`varint at byte ${this.pos} does not fit in 32 bits`);
  }

  private done(pos: number, value: number): number {
    if (pos > this.end) throw new OtlpDecodeError(`truncated varint at byte ${this.pos}`);
    this.pos = pos;
    return value;
  }

  /** int32 and enums: negative values come sign-extended to 10 bytes; the low 32 bits are the value. */
  int32(): number {
    const start = this.pos;
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError(`truncated varint at byte ${start}`);
      const b = this.buf[this.pos++]!;
      if (i < 5) value |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return value | 0;
    }
    throw new OtlpDecodeError(`malformed varint at byte ${start}`);
  }

  /** A varint as a signed 64-bit bigint (int64). */
  int64(): bigint {
    let result = 0n;
    let shift = 0n;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError(`truncated varint at byte ${start}`);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new OtlpDecodeError(`malformed varint at byte ${start}`);
  }

  /** Any varint; not zero is true. */
  bool(): boolean {
    const start = this.pos;
    let bits = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError(`truncated varint at byte ${start}`);
      const b = this.buf[this.pos++]!;
      bits |= b & 0x7f;
      if (b < 0x80) return bits !== 0;
    }
    throw new OtlpDecodeError(`malformed varint at byte ${start}`);
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new OtlpDecodeError(`truncated fixed64 at byte ${this.pos}`);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new OtlpDecodeError(`truncated fixed32 at byte ${this.pos}`);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new OtlpDecodeError(`truncated double at byte ${this.pos}`);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix and returns the end offset of the delimited field. */
  delimitedEnd(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw new OtlpDecodeError(`length ${len} at byte ${this.pos} runs past the end of its message`);
    return end;
  }

  string(): string {
    const end = this.delimitedEnd();
    const start = this.pos;
    this.pos = end;
    const s = decodeUtf8(this.buf, start, end);
    if (replaced(s, this.buf, start, end)) this.malformed = true;
    return s;
  }

  /**
   * A string that repeats across records (attribute keys): served from a small cache, so each key
   * is decoded once and every record shares one string object (whose hash V8 then computes once).
   */
  key(): string {
    const end = this.delimitedEnd();
    const start = this.pos;
    this.pos = end;
    const key = internKey(this.buf, start, end);
    if (key === undefined) {
      this.malformed = true;
      return this.buf.toString('utf8', start, end);
    }
    return key;
  }

  bytes(): Uint8Array {
    const end = this.delimitedEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** Bytes as lowercase hex (trace and span ids). */
  hex(): string {
    const end = this.delimitedEnd();
    let s = '';
    for (let i = this.pos; i < end; i++) s += HEX[this.buf[i]!]!;
    this.pos = end;
    return s;
  }

  /**
   * Skips a field of the given wire type (unknown fields are ignored, as proto3 requires). Groups
   * (deprecated, never in OTLP) nest at most {@link MAX_GROUP_DEPTH} deep, so input cannot exhaust the stack.
   */
  skipField(wireType: number, fieldNumber: number, depth = 0): void {
    switch (wireType) {
      case WireType.Varint:
        this.int64();
        return;
      case WireType.I64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.Len:
        this.pos = this.delimitedEnd();
        return;
      case WireType.I32:
        this.need(4);
        this.pos += 4;
        return;
      case WireType.SGroup:
        if (depth >= MAX_GROUP_DEPTH)
          throw new OtlpDecodeError(`groups nested deeper than ${MAX_GROUP_DEPTH} levels at byte ${this.pos}`);
        for (;;) {
          if (this.pos >= this.end) throw new OtlpDecodeError(`unterminated group ${fieldNumber}`);
          const tag = this.uint32();
          const wt = tag & 7;
          if (wt === WireType.EGroup) {
            if (tag >>> 3 !== fieldNumber) throw new OtlpDecodeError(`mismatched end of group ${fieldNumber}`);
            return;
          }
          this.skipField(wt, tag >>> 3, depth + 1);
        }
      default:
        throw new OtlpDecodeError(`invalid wire type ${wireType} at byte ${this.pos}`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new OtlpDecodeError(`truncated field at byte ${this.pos}`);
  }
}

/**
 * UTF-8 → string with Buffer's native slice decoder (building short strings in JS was measured
 * slower: the intermediate strings cost more in GC than the call saves). Invalid UTF-8 becomes
 * U+FFFD here; `ProtoReader` notices and flags it (proto3 strings must be valid UTF-8).
 */
export function decodeUtf8(buf: Buffer, start: number, end: number): string {
  return start === end ? '' : buf.toString('utf8', start, end);
}

/**
 * Whether decoding replaced invalid UTF-8: only then does the text hold U+FFFD without the bytes
 * being valid (a Latin-1 string, the usual case, cannot hold U+FFFD, and V8 knows that at once).
 */
function replaced(text: string, buf: Buffer, start: number, end: number): boolean {
  return text.includes('\ufffd') && !isUtf8(buf.subarray(start, end));
}

const MAX_KEY_LENGTH = 64;
const MAX_KEYS = 4096;
const keyCache = new Map<number, { bytes: Buffer; text: string }[]>();
let cachedKeys = 0;

/** The key, or undefined when it is not valid UTF-8 (such keys are not cached). */
function internKey(buf: Buffer, start: number, end: number): string | undefined {
  const len = end - start;
  if (len === 0) return '';
  if (len > MAX_KEY_LENGTH) {
    const text = buf.toString('utf8', start, end);
    return replaced(text, buf, start, end) ? undefined : text;
  }
  // A cheap bucket hash (length and three sample bytes); a byte compare decides.
  const h = len | (buf[end - 1]! << 8) | (buf[end - 2]! << 16) | (buf[start + (len >> 1)]! << 24);
  const bucket = keyCache.get(h);
  if (bucket !== undefined) {
    for (const e of bucket) if (e.bytes.length === len && sameBytes(buf, start, e.bytes)) return e.text;
  }
  const text = buf.toString('utf8', start, end);
  if (replaced(text, buf, start, end)) return undefined;
  if (cachedKeys < MAX_KEYS) {
    const entry = { bytes: Buffer.from(buf.subarray(start, end)), text };
    if (bucket === undefined) keyCache.set(h, [entry]);
    else bucket.push(entry);
    cachedKeys++;
  }
  return text;
}

function sameBytes(buf: Buffer, start: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}
