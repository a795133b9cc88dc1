import { crc32 } from './crc32.js';

/**
 * On-disk entry: a 20-byte header, then the payload.
 *
 *   0  u32 magic 'AUD1' (lets a reader find the next entry after damage)
 *   4  u32 payload length
 *   8  u32 CRC-32 of bytes 12.. (sequence number and payload)
 *  12  u64 sequence number (little endian)
 *  20  payload
 */
export const MAGIC = 0x31445541; // 'AUD1' little endian
export const HEADER_SIZE = 20;
/** An entry larger than this is treated as damage (a record is at most a few hundred KiB). */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

/** Writes the header of the entry at `at`, whose `payloadLength` bytes of payload follow it in `target`. */
export function writeHeader(target: Buffer, at: number, seq: number, payloadLength: number): void {
  target.writeUInt32LE(MAGIC, at);
  target.writeUInt32LE(payloadLength, at + 4);
  target.writeUInt32LE(seq % 0x100000000, at + 12);
  target.writeUInt32LE(Math.floor(seq / 0x100000000), at + 16);
  target.writeUInt32LE(crc32(target.subarray(at + 12, at + HEADER_SIZE + payloadLength)), at + 8);
}

export type ParseResult =
  | { readonly kind: 'entry'; readonly seq: number; readonly payload: Buffer; readonly size: number }
  /** Not enough bytes in the buffer to tell (read more, or at end of file: a torn tail). */
  | { readonly kind: 'incomplete'; readonly need: number }
  | { readonly kind: 'corrupt'; readonly reason: string };

/**
 * Parses the entry starting at `at` in `buf` (which holds `buf.length` valid bytes). `checksum`
 * false skips the CRC check, for bytes that never left memory since they were checksummed.
 */
export function parseEntry(buf: Buffer, at: number, checksum = true): ParseResult {
  if (buf.length - at < HEADER_SIZE) return { kind: 'incomplete', need: HEADER_SIZE };
  if (buf.readUInt32LE(at) !== MAGIC) return { kind: 'corrupt', reason: 'bad magic' };
  const len = buf.readUInt32LE(at + 4);
  if (len > MAX_PAYLOAD) return { kind: 'corrupt', reason: `implausible length ${len}` };
  const size = HEADER_SIZE + len;
  if (buf.length - at < size) return { kind: 'incomplete', need: size };
  if (checksum && crc32(buf.subarray(at + 12, at + size)) !== buf.readUInt32LE(at + 8))
    return { kind: 'corrupt', reason: 'checksum mismatch' };
  const seq = Number(buf.readBigUInt64LE(at + 12));
  return { kind: 'entry', seq, payload: buf.subarray(at + HEADER_SIZE, at + size), size };
}

/** Offset of the next plausible entry start (magic bytes) after `from`, or -1. */
export function findNextMagic(buf: Buffer, from: number): number {
  const needle = Buffer.from([0x41, 0x55, 0x44, 0x31]);
  return buf.indexOf(needle, from);
}
