import type { ComponentConfig, ServiceConfig } from '../config/load.js';
import { tlsAgentOptions } from '../http/tls-client.js';
import { SYSTEM_ID_ATTRIBUTE } from '../model/local-record.js';
import { startTime, type RetrievalConfig } from '../receivers/sap-auditlog-retrieval/config.js';
import { RetrievalError } from '../receivers/sap-auditlog-retrieval/errors.js';
import { RetrievalApi } from '../receivers/sap-auditlog-retrieval/retrieval-api.js';
import { TokenBucket } from '../receivers/sap-auditlog-retrieval/token-bucket.js';
import { AUDITLOG_RETRIEVAL_API, CredentialsError, resolveCredentials } from '../sap/credentials.js';
import { readTrail, trailOf } from '../exporters/file/trail-files.js';
import { parseDuration } from '../util/units.js';
import { loadConfigOrReport } from './load.js';

export interface ReconcileOptions {
  /** RFC 3339 or a duration before now (`24h`, `7d`); default 24h. */
  readonly since?: string | undefined;
  /** The retrieval receiver to ask SAP with, when the config defines several. */
  readonly receiver?: string | undefined;
}

/** A record of ours or SAP's, by uuid. */
interface Entry {
  readonly time: string;
  readonly category: string;
}

const SECOND = 1000;

function write(text: string): void {
  process.stdout.write(`${text}\n`);
}

function fail(text: string): number {
  process.stderr.write(`reconcile: ${text}\n`);
  return 2;
}

/** The retrieval receiver to use: the one defined (in the pipeline or not), or the one `--receiver` names. */
function retrievalReceiver(config: ServiceConfig, id: string | undefined): ComponentConfig | string {
  const all = [...config.receivers, ...(config.unusedReceivers ?? [])].filter(
    (c) => c.type === 'sap_auditlog_retrieval',
  );
  if (id !== undefined) {
    return all.find((c) => c.id === id) ?? `--receiver ${id} is not a sap_auditlog_retrieval receiver of this config`;
  }
  if (all.length === 1) return all[0]!;
  return all.length === 0
    ? 'the config defines no sap_auditlog_retrieval receiver (add one under receivers, it need not be in the pipeline): reconcile asks SAP with its credentials'
    : `the config defines several sap_auditlog_retrieval receivers (${all.map((c) => c.id).join(', ')}): name one with --receiver`;
}

function lower(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined;
}

/**
 * `otel-audit reconcile`: what our `sap_auditlog` exporter delivered (the trail the file exporters
 * of the same pipeline write: every record the pipeline accepted, all of which go to sap_auditlog)
 * against what SAP's Retrieval API returns for the same window. Prints the uuids missing at SAP
 * and those SAP has that we do not know; exit 1 when any is missing at SAP.
 */
export async function reconcileCommand(file: string, options: ReconcileOptions): Promise<number> {
  const config = await loadConfigOrReport(file);
  if (config === undefined) return 2;
  const sap = config.exporters.filter((e) => e.type === 'sap_auditlog');
  if (sap.length === 0) return fail(`the pipeline of ${file} has no sap_auditlog exporter: nothing to reconcile`);
  const trails = config.exporters.filter((e) => e.type === 'file').map((e) => (e.config as { path: string }).path);
  if (trails.length === 0) {
    return fail(
      `the pipeline of ${file} has no file exporter: reconcile reads the trail it writes of what sap_auditlog was given`,
    );
  }
  const found = retrievalReceiver(config, options.receiver);
  if (typeof found === 'string') return fail(found);
  const retrieval = found.config as RetrievalConfig;

  const now = Date.now();
  const sinceMs = startTime(options.since ?? '24h', now);
  if (sinceMs === undefined)
    return fail(`--since ${options.since ?? ''}: give an RFC 3339 time or a duration such as 24h or 7d`);
  const from = Math.floor(sinceMs / SECOND) * SECOND;
  // Records SAP has not made visible yet are not missing: stop where the receiver would.
  const to = Math.floor((now - parseDuration(retrieval.ingest_delay)) / SECOND) * SECOND;
  if (to <= from) return fail(`--since is later than now − ingest_delay (${retrieval.ingest_delay}): an empty window`);
  const inWindow = (time: unknown): boolean => {
    const t = typeof time === 'string' ? Date.parse(time) : NaN;
    return t >= from && t < to;
  };

  // Ours: the trail, rotated and compressed files included.
  const ours = new Map<string, Entry>();
  let files = 0;
  let unreadable = 0;
  for (const path of trails) {
    const list = (await trailOf(path)).files;
    files += list.length;
    for await (const { record } of readTrail(list)) {
      if (typeof record !== 'object' || record === null) {
        unreadable++;
        continue;
      }
      const r = record as { message_uuid?: unknown; time?: unknown; category?: unknown; resource?: unknown };
      const retrieved = typeof r.resource === 'object' && r.resource !== null && SYSTEM_ID_ATTRIBUTE in r.resource;
      const uuid = lower(r.message_uuid);
      if (retrieved || uuid === undefined || !inWindow(r.time)) continue;
      ours.set(uuid, { time: String(r.time), category: String(r.category) });
    }
  }

  // SAP's: every page of the window (a second more on each side: SAP does not say whether its bounds are inclusive).
  let credentials;
  try {
    credentials = await resolveCredentials(retrieval, process.env, AUDITLOG_RETRIEVAL_API);
  } catch (err) {
    if (err instanceof CredentialsError) return fail(err.message);
    throw err;
  }
  const api = new RetrievalApi(
    credentials,
    await tlsAgentOptions(retrieval.tls, found.id),
    parseDuration(retrieval.timeout),
    new TokenBucket(retrieval.max_requests_per_second),
  );
  /** SAP's records, each with its ids: `message_uuid` and the message's own `uuid` (either may be ours). */
  const theirs: { ids: string[]; entry: Entry }[] = [];
  const theirIds = new Set<string>();
  let pages = 0;
  const abort = new AbortController();
  try {
    let handle: string | undefined;
    do {
      const page = await api.page({ from: from - SECOND, to: to + SECOND, categories: [], handle }, abort.signal);
      if (page === undefined) break;
      pages++;
      for (const raw of page.records) {
        const r = raw as { message_uuid?: unknown; time?: unknown; category?: unknown; message?: unknown };
        let message = r.message;
        if (typeof message === 'string') {
          try {
            message = JSON.parse(message) as unknown;
          } catch {
            message = undefined;
          }
        }
        const inner =
          typeof message === 'object' && message !== null ? (message as { uuid?: unknown }).uuid : undefined;
        if (!inWindow(r.time)) continue;
        const ids = [lower(r.message_uuid), lower(inner)].filter((id) => id !== undefined);
        theirs.push({ ids, entry: { time: String(r.time), category: String(r.category) } });
        for (const id of ids) theirIds.add(id);
      }
      handle = page.handle;
    } while (handle !== undefined);
  } catch (err) {
    if (err instanceof RetrievalError) return fail(err.message);
    throw err;
  } finally {
    api.close();
  }

  const missing = [...ours].filter(([uuid]) => !theirIds.has(uuid));
  const unknown = theirs
    .filter((r) => !r.ids.some((id) => ours.has(id)))
    .map((r): [string, Entry] => [r.ids[0] ?? '(no uuid)', r.entry]);
  const byTime = (a: [string, Entry], b: [string, Entry]) =>
    a[1].time < b[1].time ? -1 : a[1].time > b[1].time ? 1 : 0;
  write(
    `reconcile ${sap.map((e) => e.id).join(', ')} with ${found.id}: ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
  );
  write(
    `ours: ${ours.size} records in ${files} file${files === 1 ? '' : 's'} of ${trails.join(', ')}${unreadable > 0 ? ` (${unreadable} lines not JSON)` : ''}`,
  );
  write(`SAP: ${theirs.length} records in ${pages} page${pages === 1 ? '' : 's'}`);
  write(`missing at SAP: ${missing.length}`);
  for (const [uuid, e] of missing.sort(byTime)) write(`  ${uuid} ${e.time} ${e.category}`);
  write(`unknown to us: ${unknown.length}`);
  for (const [uuid, e] of unknown.sort(byTime)) write(`  ${uuid} ${e.time} ${e.category}`);
  return missing.length > 0 ? 1 : 0;
}
