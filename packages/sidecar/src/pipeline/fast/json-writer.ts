/**
 * Writes JSON as UTF-8 bytes straight into one growing buffer: strings are copied from the request
 * body byte for byte (escaped exactly as `JSON.stringify` escapes them), so no JS string or object
 * is made for a value on its way from the protobuf to the local record.
 */
export class JsonWriter {
  pos = 0;

  /** Writes into `buf` from its start; a larger buffer replaces it when it is full. */
  constructor(public buf: Buffer) {}

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 1024));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Bytes known to be valid JSON text here (constants, a resource's JSON). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    const out = this.buf;
    let p = this.pos;
    if (n > 32) {
      out.set(b, p);
      p += n;
    } else {
      for (let i = 0; i < n; i++) out[p++] = b[i]!;
    }
    this.pos = p;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** ASCII text known to need no escaping (numbers, times). */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const out = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) out[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Bytes written earlier at `[start, end)`, again (a value the record repeats). */
  repeat(start: number, end: number): void {
    this.ensure(end - start);
    this.buf.copyWithin(this.pos, start, end);
    this.pos += end - start;
  }

  /**
   * The UTF-8 text `src[start, end)` as a JSON string literal. False (with `pos` wherever it got to)
   * when the bytes are not valid UTF-8: a decoder would have replaced them, so the caller must not
   * use this output.
   */
  string(src: Buffer, start: number, end: number): boolean {
    this.ensure(2 + 6 * (end - start));
    const out = this.buf;
    let p = this.pos;
    out[p++] = 0x22;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c < 0x80) {
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) out[p++] = c;
        else p = escapeAscii(out, p, c);
        continue;
      }
      const n = utf8Length(src, i, end);
      if (n === 0) {
        this.pos = p;
        return false;
      }
      for (let k = 0; k < n; k++) out[p++] = src[i + k]!;
      i += n - 1;
    }
    out[p++] = 0x22;
    this.pos = p;
    return true;
  }
}

const HEX = Buffer.from('0123456789abcdef');

/** `JSON.stringify`'s escapes of ASCII characters: `\"`, `\\`, the short forms, `\u00XX` (lowercase). */
function escapeAscii(out: Buffer, p: number, c: number): number {
  out[p++] = 0x5c;
  switch (c) {
    case 0x22:
    case 0x5c:
      out[p++] = c;
      return p;
    case 0x08:
      out[p++] = 0x62; // b
      return p;
    case 0x09:
      out[p++] = 0x74; // t
      return p;
    case 0x0a:
      out[p++] = 0x6e; // n
      return p;
    case 0x0c:
      out[p++] = 0x66; // f
      return p;
    case 0x0d:
      out[p++] = 0x72; // r
      return p;
    default:
      out[p++] = 0x75; // u
      out[p++] = 0x30;
      out[p++] = 0x30;
      out[p++] = HEX[c >> 4]!;
      out[p++] = HEX[c & 15]!;
      return p;
  }
}

/**
 * Length of the well-formed UTF-8 sequence at `i` (2 to 4), or 0 when there is none: no overlong
 * forms, no surrogates, nothing above U+10FFFF (what a strict decoder accepts).
 */
export function utf8Length(b: Buffer, i: number, end: number): number {
  const c = b[i]!;
  if (c < 0xc2) return 0;
  if (c < 0xe0) return i + 1 < end && (b[i + 1]! & 0xc0) === 0x80 ? 2 : 0;
  if (c < 0xf0) {
    if (i + 2 >= end) return 0;
    const c1 = b[i + 1]!;
    if ((c1 & 0xc0) !== 0x80 || (b[i + 2]! & 0xc0) !== 0x80) return 0;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) return 0;
    return 3;
  }
  if (c < 0xf5) {
    if (i + 3 >= end) return 0;
    const c1 = b[i + 1]!;
    if ((c1 & 0xc0) !== 0x80 || (b[i + 2]! & 0xc0) !== 0x80 || (b[i + 3]! & 0xc0) !== 0x80) return 0;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
    return 4;
  }
  return 0;
}

/**
 * Length of the white-space character at `i` as JavaScript's `trim()` and `\s` know it (the
 * WhiteSpace and LineTerminator code points), or 0 when the character there is something else.
 */
function spaceLength(b: Buffer, i: number, end: number): number {
  const c = b[i]!;
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d) ? 1 : 0;
  const c1 = i + 1 < end ? b[i + 1]! : 0;
  if (c === 0xc2) return c1 === 0xa0 ? 2 : 0; // U+00A0
  if (i + 2 >= end) return 0;
  const c2 = b[i + 2]!;
  if (c === 0xe1) return c1 === 0x9a && c2 === 0x80 ? 3 : 0; // U+1680
  if (c === 0xe2) {
    // U+2000..U+200A, U+2028, U+2029, U+202F; U+205F
    if (c1 === 0x80) return (c2 >= 0x80 && c2 <= 0x8a) || c2 === 0xa8 || c2 === 0xa9 || c2 === 0xaf ? 3 : 0;
    return c1 === 0x81 && c2 === 0x9f ? 3 : 0;
  }
  if (c === 0xe3) return c1 === 0x80 && c2 === 0x80 ? 3 : 0; // U+3000
  if (c === 0xef) return c1 === 0xbb && c2 === 0xbf ? 3 : 0; // U+FEFF
  return 0;
}

/** Whether `b[start, end)` has a character that is not white space (`s.trim() !== ''`). */
export function hasNonSpace(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end;) {
    const n = spaceLength(b, i, end);
    if (n === 0) return true;
    i += n;
  }
  return false;
}

/** Whether `b[start, end)` has a white-space character anywhere (`/\s/.test(s)`). */
export function hasSpace(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c > 0x20 && c < 0x80) continue;
    if (spaceLength(b, i, end) > 0) return true;
  }
  return false;
}
