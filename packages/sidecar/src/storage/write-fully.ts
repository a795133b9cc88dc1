import type { FileHandle } from 'node:fs/promises';

/** Opens a file (`fs.promises.open`); a parameter so that tests can hand out handles that fail. */
export type OpenFile = (path: string, flags: string) => Promise<FileHandle>;

/**
 * Writes all of `buffers` (`total` bytes) at the handle's position (the end, for a file opened to append).
 * One write(2) may write only part of the bytes without an error (file system full, file size limit):
 * this writes the rest until all is written, or until a write throws (e.g. ENOSPC, once nothing fits).
 */
export async function writeFully(fh: FileHandle, buffers: Buffer[], total: number): Promise<void> {
  const { bytesWritten } = await fh.writev(buffers);
  if (bytesWritten === total) return;
  const rest = Buffer.concat(buffers).subarray(bytesWritten);
  for (let done = 0; done < rest.length;) {
    const n = (await fh.write(rest, done, rest.length - done)).bytesWritten;
    if (n <= 0) throw new Error(`write made no progress (${rest.length - done} bytes left)`);
    done += n;
  }
}

/**
 * Cuts the file back to `size` bytes if it is longer, e.g. to remove what a failed append wrote.
 * Never extends it: truncating to more than the file's length would pad it with NUL bytes.
 * Returns the file's length afterwards.
 */
export async function shrinkTo(fh: FileHandle, size: number): Promise<number> {
  const actual = (await fh.stat()).size;
  if (actual <= size) return actual;
  await fh.truncate(size);
  return size;
}
