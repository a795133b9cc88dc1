import { readFile } from 'node:fs/promises';
import type { StoredSince } from '../model/consume.js';
import { RETRIEVED_EVENT_NAME } from '../model/spooled-record.js';
import type { Logger } from '../telemetry/logger.js';
import { parseEntry } from './entry-codec.js';
import { decodePayload } from './record-codec.js';
import { listSegments, nextValidEntry, segmentPath } from './segments.js';

/**
 * The uuids of the records retrieved from `systemId` that are in the spool at sequence `mark` or
 * later, read from the segment files newest first until one starts at or before `mark`.
 * `nextSeq` is the spool's next sequence number now: with nothing written since the mark the
 * answer is complete even when no entry is left to show it.
 */
export async function retrievedSince(
  directory: string,
  mark: number,
  nextSeq: number,
  systemId: string,
  logger: Logger,
): Promise<StoredSince> {
  const uuids = new Set<string>();
  if (nextSeq <= mark) return { uuids, complete: true };
  const segments = await listSegments(directory);
  for (let i = segments.length - 1; i >= 0; i--) {
    let data: Buffer;
    try {
      data = await readFile(segmentPath(directory, segments[i]!.id));
    } catch (err) {
      // Deleted since listed: so is everything older (segments go oldest first).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw err;
    }
    let first: number | undefined;
    let at = 0;
    while (at < data.length) {
      const r = parseEntry(data, at);
      if (r.kind === 'incomplete') break; // the tail being written right now
      if (r.kind === 'corrupt') {
        const next = nextValidEntry(data, at + 1);
        if (next < 0) break;
        at = next;
        continue;
      }
      first ??= r.seq;
      at += r.size;
      if (r.seq < mark) continue;
      let record;
      try {
        record = decodePayload(r.seq, r.payload);
      } catch (err) {
        logger.warn({ seq: r.seq, err: (err as Error).message }, 'skipped an unreadable spool record');
        continue;
      }
      if (record.eventName === RETRIEVED_EVENT_NAME && record.splunk.source === systemId) uuids.add(record.uuid);
    }
    if (first !== undefined && first <= mark) return { uuids, complete: true };
  }
  return { uuids, complete: false };
}
