import { defaultRegistry, type ComponentRegistry } from '../components.js';
import { storagePaths } from '../open-storage.js';
import { gapKeyOf, placeKeyOf, readDamageJournal, type SpoolLoss } from '../spool/damage.js';
import { inspectSpool } from '../spool/inspect.js';
import { loadConfigOrReport } from './load.js';

interface Listed {
  readonly time: string;
  readonly cause: string;
  readonly segment: number | undefined;
  readonly offset: number | undefined;
  readonly bytes: number;
  readonly records: number | undefined;
  readonly seqFrom: number | undefined;
  readonly seqTo: number | undefined;
  readonly uuids: readonly string[];
  readonly detail: string;
}

function fromJournal(e: Record<string, unknown>): Listed {
  const n = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    time: s(e['time']) ?? '?',
    cause: s(e['cause']) ?? '?',
    segment: n(e['segment']),
    offset: n(e['offset']),
    bytes: n(e['bytes']) ?? 0,
    records: n(e['records']),
    seqFrom: n(e['seq_from']),
    seqTo: n(e['seq_to']),
    uuids: Array.isArray(e['uuids']) ? e['uuids'].filter((u): u is string => typeof u === 'string') : [],
    detail: s(e['detail']) ?? '',
  };
}

function fromScan(l: SpoolLoss): Listed {
  return {
    time: 'now',
    cause: l.cause,
    segment: l.segment,
    offset: l.offset,
    bytes: l.bytes,
    records: l.records,
    seqFrom: l.seqFrom,
    seqTo: l.seqTo,
    uuids: l.uuids ?? [],
    detail: l.detail,
  };
}

function line(l: Listed): string {
  const where = `segment ${l.segment ?? '?'}${l.offset === undefined ? '' : ` offset ${l.offset}`}`;
  const size = [
    l.bytes > 0 ? `${l.bytes} bytes` : undefined,
    l.records === undefined
      ? 'records unknown'
      : `${l.records} record${l.records === 1 ? '' : 's'}` +
        (l.seqFrom === undefined ? '' : ` (seq ${l.seqFrom}–${l.seqTo ?? '?'})`),
  ]
    .filter((s) => s !== undefined)
    .join(', ');
  const uuids = l.uuids.length > 0 ? `; uuids: ${l.uuids.join(', ')}` : '';
  return `${l.time}  ${l.cause}  ${where}: ${size}: ${l.detail}${uuids}\n`;
}

/**
 * `otel-audit replay --list-damaged`: what the spool lost or skipped, with its size and the uuids
 * that could still be read. Lists what the sidecar found (`queue/damaged.jsonl`) and what a
 * read-only scan of the spool files finds now (damage no exporter has reached yet). Needs no lock:
 * it can run next to the sidecar. Damaged records cannot be replayed: their data is gone; the
 * uuids say which events to look for at the sources.
 */
export async function listDamagedCommand(
  file: string | undefined,
  registry: ComponentRegistry = defaultRegistry(),
): Promise<number> {
  const config = await loadConfigOrReport(file, registry);
  if (config === undefined) return 2;
  const queue = storagePaths(config.storage.directory).queue;
  const journal = (await readDamageJournal(queue)).map(fromJournal);
  const seen = new Set<string>();
  for (const l of journal) {
    if (l.offset !== undefined) seen.add(placeKeyOf(l.segment ?? '?', l.offset));
    if (l.seqFrom !== undefined) seen.add(gapKeyOf(l.seqFrom));
  }
  const now = (await inspectSpool(queue))
    .filter(
      (l) =>
        !(l.offset !== undefined && seen.has(placeKeyOf(l.segment, l.offset))) &&
        !(l.seqFrom !== undefined && seen.has(gapKeyOf(l.seqFrom))),
    )
    .map(fromScan);
  const all = [...journal, ...now];
  if (all.length === 0) {
    process.stdout.write(`no damaged or missing spool data in ${queue}\n`);
    return 0;
  }
  for (const l of all) process.stdout.write(line(l));
  const records = all.reduce((n, l) => n + (l.records ?? 0), 0);
  const bytes = all.reduce((n, l) => n + l.bytes, 0);
  const uuids = new Set(all.flatMap((l) => l.uuids)).size;
  const unknown = all.filter((l) => l.records === undefined).length;
  process.stdout.write(
    `damaged: ${all.length} place${all.length === 1 ? '' : 's'}, ${records} records lost` +
      `${unknown > 0 ? ` (and an unknown number at ${unknown} place${unknown === 1 ? '' : 's'})` : ''}, ` +
      `${bytes} bytes skipped, ${uuids} uuid${uuids === 1 ? '' : 's'} readable\n`,
  );
  return 0;
}
