import { open } from 'node:fs/promises';
import { parseEntry } from './entry-codec.js';
import { decodePayload } from './record-codec.js';
import { listSegments, nextValidEntry, segmentPath } from './segments.js';

/**
 * The uuids of the records in the last `windowBytes` of the spool in `directory` (records addressed
 * to some exporters only, replayed dead letters, left out). Read at start: a sender whose request
 * was stored just before a crash got no answer and sends it again after the restart; these are the
 * records such a request can hold.
 */
export async function tailUuids(directory: string, windowBytes: number): Promise<Set<string>> {
  const uuids = new Set<string>();
  const segments = await listSegments(directory);
  let left = windowBytes;
  for (let i = segments.length - 1; i >= 0 && left > 0; i--) {
    const { id, size } = segments[i]!;
    const bytes = Math.min(size, left);
    left -= bytes;
    let data: Buffer;
    try {
      data = await readEnd(segmentPath(directory, id), size, bytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') break; // deleted since listed, and so is everything older
      throw err;
    }
    // Read from the middle of a segment: start at the first entry that checks out.
    let at = bytes === size ? 0 : nextValidEntry(data, 0);
    while (at >= 0 && at < data.length) {
      const r = parseEntry(data, at);
      if (r.kind !== 'entry') {
        at = nextValidEntry(data, at + 1);
        continue;
      }
      at += r.size;
      try {
        const record = decodePayload(r.seq, r.payload);
        if (record.targets === undefined) uuids.add(record.uuid);
      } catch {
        // An unreadable record: the readers report it.
      }
    }
  }
  return uuids;
}

async function readEnd(path: string, size: number, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(bytes);
    let read = 0;
    while (read < bytes) {
      const { bytesRead } = await fh.read(buf, read, bytes - read, size - bytes + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buf.subarray(0, read);
  } finally {
    await fh.close();
  }
}
