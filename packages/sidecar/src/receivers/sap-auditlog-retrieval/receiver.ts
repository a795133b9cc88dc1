import type { AgentOptions } from 'node:https';
import type { ComponentContext, Receiver } from '../../component.js';
import type { LocalRecordsConsumer } from '../../model/consume.js';
import { BackpressureError } from '../../model/errors.js';
import type { RetrievedRecord } from '../../model/local-record.js';
import { tlsAgentOptions } from '../../http/tls-client.js';
import {
  AUDITLOG_RETRIEVAL_API,
  CredentialsError,
  directoryFingerprint,
  resolveCredentials,
  type AuditLogCredentials,
} from '../../sap/credentials.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { parseDuration } from '../../util/units.js';
import { startTime, type RetrievalConfig } from './config.js';
import { RetrievalError } from './errors.js';
import { toRetrieved } from './records.js';
import { RetrievalApi } from './retrieval-api.js';
import { sleep } from './sleep.js';
import { RetrievalState, type SeenRecords, type Window } from './state.js';
import { TokenBucket } from './token-bucket.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The window being imported, and what of it is already in the spool. */
interface WindowInProgress extends Window {
  readonly stored: SeenRecords;
}

const SECOND = 1000;
const MAX_BACKOFF_MS = 5 * 60_000;

function floorSecond(ms: number): number {
  return Math.floor(ms / SECOND) * SECOND;
}

/**
 * The `sap_auditlog_retrieval` receiver: pulls one subaccount's audit logs from SAP's Retrieval API
 * in windows `[checkpoint − overlap, now − ingest_delay]`, page by page, into the spool, exactly
 * once: a record's uuid is dropped when the checkpoint's overlap or the window already holds it,
 * and the journal of the window in progress tells after a crash which records are in the spool
 * (state.ts). Failures are logged with their cause and retried; the receiver never stops trying.
 */
export class SapAuditLogRetrievalReceiver implements Receiver {
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly id: string;
  private state: RetrievalState | undefined;
  /** The window a crash or a failure interrupted: imported again (its stored records skipped) before any other. */
  private current: WindowInProgress | undefined;
  private api: RetrievalApi | undefined;
  private fingerprint: string | undefined;
  private lastReload = 0;
  private tls: AgentOptions = {};
  private readonly bucket: TokenBucket;
  private categories: readonly string[];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** The last problem logged, so a failure that repeats is logged once. */
  private problem: string | undefined;
  private failures = 0;
  private readonly pollMs: number;
  private readonly delayMs: number;
  private readonly overlapMs: number;
  private readonly maxWindowMs: number;
  private readonly firstStart: number;

  constructor(
    private readonly config: RetrievalConfig,
    private readonly ctx: ComponentContext,
    private readonly consumer: LocalRecordsConsumer,
    private readonly env: Env = process.env,
  ) {
    this.id = ctx.id;
    this.logger = ctx.logger.child({ receiver: ctx.id });
    this.metrics = ctx.metrics;
    this.bucket = new TokenBucket(config.max_requests_per_second);
    this.categories = config.categories;
    this.pollMs = parseDuration(config.poll_interval);
    this.delayMs = parseDuration(config.ingest_delay);
    this.overlapMs = parseDuration(config.overlap);
    this.maxWindowMs = parseDuration(config.max_window);
    this.firstStart = floorSecond(startTime(config.start_at, Date.now())!);
  }

  /** Reads the checkpoint and finishes what a crash interrupted: which records of the last write reached the spool. */
  async prepare(): Promise<void> {
    const { state, interrupted } = await RetrievalState.open(this.ctx.stateDirectory, this.config.system_id);
    this.state = state;
    if (state.checkpointSystemId !== undefined) {
      this.logger.warn(
        { stored: state.checkpointSystemId, configured: this.config.system_id },
        'the checkpoint was written for another system_id; continuing from it',
      );
    }
    if (state.checkpoint !== undefined) this.metrics.retrievalCheckpoint(this.id, state.checkpoint.windowEnd);
    if (interrupted === undefined) return;
    const stored = interrupted.stored;
    if (interrupted.pendingMark !== undefined) await this.resolvePending(interrupted, interrupted.pendingMark);
    else await state.writeJournal(interrupted, stored);
    this.current = { from: interrupted.from, to: interrupted.to, stored };
    this.logger.info(
      {
        from: new Date(interrupted.from).toISOString(),
        to: new Date(interrupted.to).toISOString(),
        stored: stored.size,
      },
      'resuming an interrupted retrieval window',
    );
  }

  /**
   * A write to the spool whose outcome is unknown (a crash, or an error from the spool): the spool,
   * read from the mark taken before it, tells which of the system's records it holds.
   */
  private async resolvePending(window: WindowInProgress, mark: number): Promise<void> {
    const found = await this.consumer.storedSince(mark, this.config.system_id);
    for (const uuid of found.uuids) if (!window.stored.has(uuid)) window.stored.set(uuid, window.to);
    if (!found.complete) {
      this.logger.warn(
        { mark },
        'cannot tell which records were stored just before the interruption (the spool no longer reaches back that far): records not found are imported again and may be duplicates',
      );
    }
    await this.state!.writeJournal(window, window.stored);
  }

  async start(): Promise<void> {
    this.tls = await tlsAgentOptions(this.config.tls, this.id);
    this.loop = this.run();
  }

  addresses(): Record<string, string> {
    return {};
  }

  async shutdown(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.api?.close();
    await this.state?.close();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let wait = this.pollMs;
      try {
        const api = await this.connection();
        if (api === undefined) {
          await sleep(Math.min(this.pollMs, parseDuration(this.config.reload_interval)), signal);
          continue;
        }
        const window = this.current ?? this.nextWindow(Date.now());
        if (window !== undefined) {
          this.current = window;
          const done = await this.importWindow(api, window, signal);
          if (done) {
            this.current = undefined;
            this.recovered();
            // Behind by more than a poll interval (a first run, an outage): the next window follows at once.
            if (this.windowEnd(Date.now()) - window.to > this.pollMs) wait = 0;
          }
        }
      } catch (err) {
        wait = this.failed(err);
      }
      if (wait > 0) await sleep(wait, signal);
    }
  }

  /** The end of any window now: now − ingest_delay, in whole seconds. */
  private windowEnd(now: number): number {
    return floorSecond(now - this.delayMs);
  }

  /** The next window after the checkpoint, or undefined when there is no new second to ask for yet. */
  private nextWindow(now: number): WindowInProgress | undefined {
    const checkpoint = this.state!.checkpoint?.windowEnd;
    const end = this.windowEnd(now);
    const from = checkpoint === undefined ? this.firstStart : checkpoint - this.overlapMs;
    const to = Math.min(end, (checkpoint ?? this.firstStart) + this.maxWindowMs);
    if (to <= (checkpoint ?? this.firstStart)) return undefined;
    return { from, to, stored: new Map() };
  }

  /** Imports every page of a window; false when it stopped for a shutdown. */
  private async importWindow(api: RetrievalApi, window: WindowInProgress, signal: AbortSignal): Promise<boolean> {
    const state = this.state!;
    if (window.stored.size === 0) await state.beginWindow(window);
    const seen = state.checkpoint?.seen ?? new Map<string, number>();
    let handle: string | undefined;
    let pages = 0;
    let imported = 0;
    let duplicates = 0;
    for (;;) {
      let page;
      try {
        page = await api.page({ from: window.from, to: window.to, categories: this.categories, handle }, signal);
      } catch (err) {
        if (err instanceof RetrievalError && err.kind === 'category_filter' && this.categories.length > 0) {
          this.logger.warn(
            { categories: this.categories, reason: err.message },
            'the Retrieval API cannot filter by category for this account (custom retention or sovereign cloud): retrieving all categories from now on',
          );
          this.categories = [];
          handle = undefined;
          continue;
        }
        throw err;
      }
      if (page === undefined) return false;
      pages++;
      this.metrics.retrievalPages.inc({ receiver: this.id });
      const fresh: RetrievedRecord[] = [];
      const freshTimes: [string, number][] = [];
      let unreadable = 0;
      let unparsed = 0;
      for (const raw of page.records) {
        const r = toRetrieved(raw, this.config.system_id);
        if (r === undefined) {
          unreadable++;
          continue;
        }
        if (r.unparsedMessage) unparsed++;
        const uuid = r.record.message_uuid;
        if (seen.has(uuid) || window.stored.has(uuid)) {
          duplicates++;
          continue;
        }
        const time = Number.isNaN(r.timeMs) ? window.to : r.timeMs;
        window.stored.set(uuid, time); // also drops a repeat within the page; undone below if the write fails
        fresh.push(r.record);
        freshTimes.push([uuid, time]);
      }
      if (unreadable > 0 || unparsed > 0) {
        this.logger.warn(
          { unreadable, unparsed },
          'the Retrieval API sent records that are not JSON objects (skipped) or whose message is not JSON (kept as text in message.unparsed_message)',
        );
      }
      if (fresh.length > 0) await this.store(window, fresh, freshTimes);
      imported += fresh.length;
      handle = page.handle;
      if (handle === undefined) break;
      if (signal.aborted) return false;
    }

    // The window is in the spool: the checkpoint moves to its end, keeping the overlap's uuids.
    const keepFrom = window.to - this.overlapMs;
    const nextSeen: SeenRecords = new Map();
    for (const [uuid, time] of seen) if (time >= keepFrom) nextSeen.set(uuid, time);
    for (const [uuid, time] of window.stored) if (time >= keepFrom) nextSeen.set(uuid, time);
    await state.completeWindow({ windowEnd: window.to, seen: nextSeen });
    this.metrics.retrievalCheckpoint(this.id, window.to);
    if (duplicates > 0) this.metrics.retrievalRecords.inc({ receiver: this.id, outcome: 'duplicate' }, duplicates);
    const summary = {
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      pages,
      imported,
      duplicates,
    };
    if (imported > 0) this.logger.info(summary, 'retrieved audit records from SAP');
    else this.logger.debug(summary, 'retrieved audit records from SAP');
    return true;
  }

  /** Writes fresh records to the spool, journalled so that a crash at any point is resolved (state.ts). */
  private async store(window: WindowInProgress, records: RetrievedRecord[], times: [string, number][]): Promise<void> {
    const mark = this.consumer.mark();
    await this.state!.markPending(mark);
    try {
      await this.consumer.consumeLocal(records);
    } catch (err) {
      for (const [uuid] of times) window.stored.delete(uuid);
      // Refused before anything was written (the spool is full): nothing to find out.
      if (err instanceof BackpressureError) await this.state!.writeJournal(window, window.stored);
      else await this.resolvePending(window, mark);
      throw err;
    }
    await this.state!.recordStored(times);
    this.metrics.retrievalRecords.inc({ receiver: this.id, outcome: 'imported' }, records.length);
  }

  /** The API client, (re)built when the credentials appear or a mounted binding changes. */
  private async connection(): Promise<RetrievalApi | undefined> {
    const now = Date.now();
    const reloadMs = parseDuration(this.config.reload_interval);
    if (this.api !== undefined) {
      const dir = this.api.credentials.watchDirectory;
      if (dir === undefined || now - this.lastReload < reloadMs) return this.api;
      this.lastReload = now;
      const fingerprint = await directoryFingerprint(dir);
      if (fingerprint === this.fingerprint) return this.api;
      this.logger.info(
        { source: this.api.credentials.source },
        'auditlog-management credentials changed; using the new ones',
      );
    }
    this.lastReload = now;
    let credentials: AuditLogCredentials;
    try {
      credentials = await resolveCredentials(this.config, this.env, AUDITLOG_RETRIEVAL_API);
    } catch (err) {
      if (!(err instanceof CredentialsError)) throw err;
      this.report(err.message, 'SAP Audit Log Retrieval receiver has no credentials; looking again');
      return this.api; // rotated but unreadable: keep the old ones
    }
    const old = this.api;
    this.api = new RetrievalApi(credentials, this.tls, parseDuration(this.config.timeout), this.bucket, {
      onResponse: (status) => this.metrics.retrievalRequests.inc({ receiver: this.id, status: String(status) }),
      onThrottled: () => this.metrics.retrievalThrottled.inc({ receiver: this.id }),
    });
    old?.close();
    this.fingerprint =
      credentials.watchDirectory === undefined ? undefined : await directoryFingerprint(credentials.watchDirectory);
    this.logger.info(
      {
        source: credentials.source,
        url: credentials.url,
        auth: credentials.uaa?.clientsecret === undefined ? 'x509' : 'client secret',
        system_id: this.config.system_id,
      },
      'SAP Audit Log Retrieval receiver ready',
    );
    return this.api;
  }

  /** Logs a failure (once while it repeats) and says how long to wait before the next attempt. */
  private failed(err: unknown): number {
    if (this.abort.signal.aborted) return 0;
    this.failures++;
    if (err instanceof BackpressureError) {
      this.report(err.message, 'the spool is full: retrieval waits');
      return err.retryAfterMs;
    }
    if (err instanceof RetrievalError) {
      if (err.kind === 'unavailable') {
        this.report(err.message, 'SAP Audit Log Retrieval API unavailable; retrying');
        return err.retryAfterMs ?? Math.min(this.pollMs, MAX_BACKOFF_MS, SECOND * 2 ** Math.min(this.failures - 1, 10));
      }
      // Credentials or the request refused: a binding may have been rotated meanwhile.
      this.lastReload = 0;
      this.report(err.message, 'SAP Audit Log Retrieval API refused the request; retrying at poll_interval');
      return this.pollMs;
    }
    this.report((err as Error).message ?? String(err), 'retrieval failed; retrying at poll_interval');
    return this.pollMs;
  }

  private report(reason: string, message: string): void {
    if (reason === this.problem) return;
    this.problem = reason;
    this.logger.error({ reason }, message);
  }

  private recovered(): void {
    if (this.problem !== undefined) this.logger.info('SAP Audit Log Retrieval API reachable again; retrieving');
    this.problem = undefined;
    this.failures = 0;
  }
}
