import type { FileHandle } from 'node:fs/promises';

/** The last `bytes` of a file of `size` bytes, from the first whole line on. */
export async function readTail(fh: FileHandle, size: number, bytes: number): Promise<string> {
  const start = Math.max(0, size - bytes);
  const buf = Buffer.alloc(size - start);
  if (buf.length > 0) await fh.read(buf, 0, buf.length, start);
  const text = buf.toString('utf8');
  return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
}

/** The last line (without its newline) of a file of `size` bytes that ends with a newline; undefined if empty. */
export async function readLastLine(fh: FileHandle, size: number): Promise<Buffer | undefined> {
  if (size === 0) return undefined;
  const end = size - 1; // the final newline
  const parts: Buffer[] = [];
  let pos = end;
  while (pos > 0) {
    const start = Math.max(0, pos - 64 * 1024);
    const chunk = Buffer.alloc(pos - start);
    await fh.read(chunk, 0, chunk.length, start);
    const nl = chunk.lastIndexOf(0x0a);
    if (nl >= 0) {
      parts.unshift(chunk.subarray(nl + 1));
      break;
    }
    parts.unshift(chunk);
    pos = start;
  }
  return Buffer.concat(parts);
}
