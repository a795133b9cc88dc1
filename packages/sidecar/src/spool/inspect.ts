import type { SpoolLoss } from './damage.js';
import { loadHeadMark } from './head-mark.js';
import { listSegments, scanSegment, segmentPath, type TailScan } from './segments.js';

/**
 * Reads the spool's segment files as they are now, without changing anything (a running sidecar
 * may use them), and lists what is damaged or missing: damage inside segments (with the records it
 * took, from the sequence numbers around it, and the uuids still readable), segment files missing
 * between others, records missing between two segments, and records missing at the end compared
 * with the last head mark. The end of the newest segment may be a write in progress: not damage.
 */
export async function inspectSpool(dir: string): Promise<SpoolLoss[]> {
  const out: SpoolLoss[] = [];
  const segments = await listSegments(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  let prev: { id: number; lastSeq: number } | undefined;
  for (let i = 0; i < segments.length; i++) {
    const { id } = segments[i]!;
    const newest = i === segments.length - 1;
    let scan: TailScan;
    try {
      scan = await scanSegment(segmentPath(dir, id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted since listed: consumed
      throw err;
    }
    if (prev !== undefined && scan.firstSeq > 0 && prev.lastSeq > 0 && scan.firstSeq > prev.lastSeq + 1) {
      const records = scan.firstSeq - prev.lastSeq - 1;
      out.push({
        cause: 'missing',
        segment: id === prev.id + 1 ? prev.id : prev.id + 1,
        bytes: 0,
        records,
        seqFrom: prev.lastSeq + 1,
        seqTo: scan.firstSeq - 1,
        detail:
          id === prev.id + 1
            ? `the end of segment ${prev.id} is gone (the file was cut short)`
            : `segment files ${prev.id + 1} to ${id - 1} are gone`,
      });
    }
    for (const g of scan.gaps) {
      out.push({
        cause: 'missing',
        segment: id,
        offset: g.offset,
        bytes: 0,
        records: g.seqTo - g.seqFrom + 1,
        seqFrom: g.seqFrom,
        seqTo: g.seqTo,
        detail: 'records missing before this entry (lost earlier: the spool numbers on after a loss)',
      });
    }
    for (const d of scan.damage) {
      if (newest && d.seqAfter === undefined) continue; // possibly a write in progress
      const records = d.seqAfter !== undefined && d.seqBefore > 0 ? d.seqAfter - d.seqBefore - 1 : undefined;
      out.push({
        cause: 'damaged',
        segment: id,
        offset: d.offset,
        bytes: d.bytes,
        records,
        seqFrom: records === undefined ? undefined : d.seqBefore + 1,
        seqTo: records === undefined ? undefined : d.seqAfter! - 1,
        uuids: d.uuids,
        detail: d.seqAfter === undefined ? 'damaged to the end of the segment' : 'failed checksum or torn entry',
      });
    }
    if (scan.lastSeq > 0) prev = { id, lastSeq: scan.lastSeq };
    else if (prev !== undefined) prev = { id, lastSeq: prev.lastSeq };
  }
  const mark = await loadHeadMark(dir);
  if (mark !== undefined && prev !== undefined && mark.nextSeq > prev.lastSeq + 1) {
    out.push({
      cause: 'missing',
      segment: prev.id,
      bytes: 0,
      records: mark.nextSeq - prev.lastSeq - 1,
      seqFrom: prev.lastSeq + 1,
      seqTo: mark.nextSeq - 1,
      detail: `records stored before the last head mark are gone from the end of the spool`,
    });
  }
  return out;
}
