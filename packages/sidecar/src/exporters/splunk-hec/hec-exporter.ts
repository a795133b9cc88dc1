import { randomUUID } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { DeliveredCallback, Exporter, ExportOutcome } from '../../component.js';
import { RetryableExportError } from '../../model/errors.js';
import type { SpooledRecord } from '../../model/spooled-record.js';
import type { Logger } from '../../telemetry/logger.js';
import { createAgent, NetworkError, send, snippet } from '../../http/client.js';
import { tlsAgentOptions } from '../../http/tls-client.js';
import { AckTracker } from './ack.js';
import { AckState, type PendingAck } from './ack-state.js';
import { classify, type HecVerdict } from './codes.js';
import { HecToken } from './token.js';
import type { SplunkHecConfig } from './config.js';
import { encodeEvents, EventBuilder, planRequests, type HecEvent } from './events.js';
import { parseDuration, parseSize } from '../../util/units.js';

const gzip = promisify(gzipCallback);
/** zlib's output chunk: large enough that a compressed request is one chunk, not a dozen callbacks. */
const GZIP_CHUNK_BYTES = 256 * 1024;

const SHUTTING_DOWN: HecVerdict = {
  kind: 'retry',
  reason: 'shutting down before Splunk HEC confirmed the events: they are sent again after the restart',
};

/** The HEC URLs under the configured endpoint. */
export interface HecUrls {
  readonly event: URL;
  readonly ack: URL;
  readonly health: URL;
  /** The endpoint for messages: origin and path prefix, never credentials. */
  readonly display: string;
}

/**
 * `endpoint` is the HEC base URL (`https://splunk:8088`); a path ending in `/services/collector`,
 * `/services/collector/event` or `/services/collector/event/1.0` (as Collector configs often have
 * it) is accepted too, and anything before it is kept as a prefix (HEC behind a path-routing proxy).
 */
export function hecUrls(endpoint: string): HecUrls {
  const url = new URL(endpoint);
  const prefix = url.pathname.replace(/\/+$/, '').replace(/\/services\/collector(\/event(\/1\.0)?)?$/, '');
  const at = (path: string) => new URL(`${url.origin}${prefix}${path}`);
  return {
    event: at('/services/collector/event'),
    ack: at('/services/collector/ack'),
    health: at('/services/collector/health'),
    display: `${url.origin}${prefix}`,
  };
}

/** Request buffers larger than this are not kept for reuse. */
const REUSE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * At most `limit` requests at a time, served in order. Each slot keeps the buffer its requests are
 * encoded into, so that a steady stream of requests does not allocate (and page in, and collect)
 * a new megabyte-sized buffer each time.
 */
class Slots {
  private readonly idle: (Buffer | undefined)[];
  private readonly waiting: ((buffer: Buffer | undefined) => void)[] = [];

  constructor(
    limit: number,
    private readonly bufferBytes: number,
  ) {
    this.idle = Array.from({ length: limit }, () => undefined);
  }

  /** A slot's buffer (none when requests may be too large to keep one per slot). */
  acquire(): Promise<Buffer | undefined> {
    if (this.idle.length === 0) return new Promise((resolve) => this.waiting.push(resolve));
    const buffer = this.idle.pop();
    return Promise.resolve(
      buffer ?? (this.bufferBytes <= REUSE_MAX_BYTES ? Buffer.allocUnsafeSlow(this.bufferBytes) : undefined),
    );
  }

  release(buffer: Buffer | undefined): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(buffer);
    else this.idle.push(buffer);
  }
}

/** One export call: its records, what became of them, and whom to tell as HEC confirms them. */
interface ExportCall {
  readonly records: readonly SpooledRecord[];
  readonly result: BatchResult;
  readonly signal: AbortSignal | undefined;
  readonly delivered: DeliveredCallback | undefined;
}

/** Sequence number ranges `[from, to)` of the records of `events`. */
function seqRanges(events: readonly HecEvent[], records: readonly SpooledRecord[]): [number, number][] {
  const seqs = events.map((e) => records[e.position]!.seq).sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], s + 1);
    else out.push([s, s + 1]);
  }
  return out;
}

/** What became of the records of one export call, by position in the batch (unnamed: delivered). */
class BatchResult {
  readonly rejected = new Map<number, string>();
  readonly retry = new Set<number>();
  private retryReason: string | undefined;
  private retryAfterMs: number | undefined;

  constructor(private readonly size: number) {}

  reject(position: number, reason: string): void {
    this.rejected.set(position, reason);
  }

  again(position: number, reason: string, retryAfterMs?: number): void {
    this.retry.add(position);
    this.retryReason ??= reason;
    if (retryAfterMs !== undefined) this.retryAfterMs = Math.max(this.retryAfterMs ?? 0, retryAfterMs);
  }

  outcome(): ExportOutcome {
    if (this.size > 0 && this.retry.size === this.size)
      throw new RetryableExportError(this.retryReason!, this.retryAfterMs);
    return {
      ...(this.rejected.size > 0 ? { rejected: [...this.rejected].map(([index, reason]) => ({ index, reason })) } : {}),
      ...(this.retry.size > 0
        ? { retry: { indexes: [...this.retry], reason: this.retryReason!, retryAfterMs: this.retryAfterMs } }
        : {}),
    };
  }
}

/**
 * The `splunk_hec` exporter: records as HEC events (the local record as `event`, metadata from the
 * record over the config, indexed `fields`), grouped per index into gzip requests under
 * `max_content_length`, up to `max_concurrency` requests in flight. HEC's answers are mapped in
 * `classify`: a bad event is found (by `invalid-event-number`, else by bisection) and dead-lettered
 * alone while the rest of its request is sent again; load, outages and setup problems (a refused
 * token) keep the records for a retry. With `ack: true`, a request's records count as delivered
 * only once HEC acknowledges that they are indexed.
 */
export class SplunkHecExporter implements Exporter {
  private readonly urls: HecUrls;
  private readonly builder: EventBuilder;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly ackTimeoutMs: number;
  private readonly slots: Slots;
  private headers: Record<string, string> = {};
  private ackHeaders: Record<string, string> = {};
  private channel: string | undefined;
  private token: HecToken | undefined;
  private agent: HttpAgent | HttpsAgent | undefined;
  private acks: AckTracker | undefined;
  /** With ack and a state directory: the channel and the requests awaiting acknowledgement, kept across restarts. */
  private ackState: AckState | undefined;
  /** Requests pending at the last stop, by ackId: HEC is asked about them before their records are sent again. */
  private readonly recovered = new Map<number, PendingAck>();
  private readonly recoveredAcks = new Map<number, Promise<boolean>>();
  private health: Promise<void> | undefined;
  private warnedNoAckId = false;
  private closing = false;

  constructor(
    readonly id: string,
    private readonly config: SplunkHecConfig,
    private readonly logger: Logger,
    /** Where `ack: true` keeps its channel and pending acknowledgements (none: a new channel each start). */
    private readonly stateDirectory?: string,
  ) {
    this.urls = hecUrls(config.endpoint);
    this.builder = new EventBuilder(
      { host: config.host, source: config.source, sourcetype: config.sourcetype, index: config.index },
      config.fields,
    );
    this.maxBytes = parseSize(config.max_content_length);
    this.timeoutMs = parseDuration(config.timeout);
    this.ackTimeoutMs = parseDuration(config.ack_timeout);
    this.slots = new Slots(config.max_concurrency, this.maxBytes);
  }

  /** Request headers with `token`; requests started from now on use them. */
  private useToken(token: string): void {
    const common: Record<string, string> = {
      Authorization: `Splunk ${token}`,
      'Content-Type': 'application/json',
      'User-Agent': 'otel-audit',
      ...(this.channel === undefined ? {} : { 'X-Splunk-Request-Channel': this.channel }),
    };
    this.ackHeaders = common;
    this.headers = this.config.disable_compression ? common : { ...common, 'Content-Encoding': 'gzip' };
  }

  async start(): Promise<void> {
    if (this.config.ack && this.stateDirectory !== undefined) {
      const { state, recovered } = await AckState.open(this.stateDirectory, randomUUID, this.logger);
      this.ackState = state;
      this.channel = state.channel;
      for (const p of recovered) this.recovered.set(p.id, p);
      if (recovered.length > 0) {
        this.logger.info(
          { requests: recovered.length, channel: state.channel },
          'asking Splunk HEC about requests it accepted before the restart before sending their events again',
        );
      }
    } else if (this.config.ack) {
      this.channel = randomUUID();
    }
    this.token = await HecToken.load(
      this.config,
      parseDuration(this.config.reload_interval),
      (token) => this.useToken(token),
      this.logger,
    );
    this.useToken(this.token.current);
    const tls = await tlsAgentOptions(this.config.tls, 'splunk_hec');
    // Event requests are bounded by the slots; the extra sockets keep ack queries from queueing behind them.
    this.agent = createAgent(this.urls.event.href, this.config.max_concurrency + 2, tls);
    if (this.config.ack) {
      this.acks = new AckTracker(
        (ids) => this.queryAcks(ids),
        parseDuration(this.config.ack_poll_interval),
        this.ackTimeoutMs,
        this.logger,
      );
    }
    this.logger.info(
      {
        endpoint: this.urls.display,
        index: this.config.index ?? '(token default)',
        ack: this.config.ack,
        compression: this.config.disable_compression ? 'none' : `gzip level ${this.config.compression_level}`,
        client_certificate: this.config.tls.cert_file !== undefined,
        token_file: this.config.token_file ?? null,
      },
      'Splunk HEC exporter ready',
    );
    if (this.config.health_check_enabled) this.health = this.checkHealth();
  }

  async export(
    records: readonly SpooledRecord[],
    signal?: AbortSignal,
    delivered?: DeliveredCallback,
  ): Promise<ExportOutcome> {
    const result = new BatchResult(records.length);
    const call: ExportCall = { records, result, signal, delivered };
    const todo = this.recovered.size === 0 ? records.map((_, i) => i) : await this.confirmRecovered(call);
    const events = todo.map((i) => this.builder.build(records[i]!, i));
    const { requests, tooLarge } = planRequests(events, this.maxBytes);
    for (const e of tooLarge) {
      result.reject(
        e.position,
        `the event is ${e.size} bytes with its HEC envelope, over max_content_length (${this.maxBytes} bytes): HEC would refuse every request holding it`,
      );
    }
    await Promise.all(requests.map((r) => this.deliver(r, call)));
    return result.outcome();
  }

  /**
   * Records of requests HEC accepted before the restart: asks HEC (on the same channel) whether
   * they are indexed, until their ack_timeout from when they were sent. Those it confirms are
   * delivered; returns the positions of the records still to send.
   */
  private async confirmRecovered(call: ExportCall): Promise<number[]> {
    const byAck = new Map<number, number[]>();
    const todo: number[] = [];
    call.records.forEach((r, i) => {
      const ack = this.recoveredAckOf(r.seq);
      if (ack === undefined) todo.push(i);
      else byAck.set(ack.id, [...(byAck.get(ack.id) ?? []), i]);
    });
    const waits = [...byAck].map(async ([id, positions]) => {
      if (await this.waitRecovered(this.recovered.get(id)!, call.signal)) call.delivered?.(positions);
      else todo.push(...positions);
    });
    // Requests past their deadline that no batch asks about any more (their records were confirmed
    // before the restart, or are sent again anyway): forget them.
    const now = Date.now();
    for (const [id, p] of this.recovered) {
      if (p.deadline > now || byAck.has(id) || this.recoveredAcks.has(id)) continue;
      this.recovered.delete(id);
      this.ackState?.remove(id);
    }
    await Promise.all(waits);
    return todo.sort((a, b) => a - b);
  }

  private recoveredAckOf(seq: number): PendingAck | undefined {
    for (const p of this.recovered.values()) if (p.seqs.some(([a, b]) => seq >= a && seq < b)) return p;
    return undefined;
  }

  /** Whether HEC acknowledges a request of before the restart (asked once, however many batches hold its records). */
  private waitRecovered(ack: PendingAck, signal: AbortSignal | undefined): Promise<boolean> {
    let waiting = this.recoveredAcks.get(ack.id);
    if (waiting === undefined) {
      waiting = this.acks!.wait(ack.id, signal, ack.deadline).then((acked) => {
        // Settled either way: acknowledged (delivered), or sent again in a new request with a new ackId.
        if (acked || !signal?.aborted) {
          this.recovered.delete(ack.id);
          this.ackState?.remove(ack.id);
        }
        this.recoveredAcks.delete(ack.id);
        return acked;
      });
      this.recoveredAcks.set(ack.id, waiting);
    }
    return waiting;
  }

  /**
   * Sends one request's events until each is delivered, dead-lettered or left for a retry. HEC
   * refuses a request with an invalid event as a whole: the event it names (or, if it names none,
   * the ones bisection finds) is dead-lettered and the others are sent again, all of them, since
   * nothing says which events before the bad one were indexed (at least once: a duplicate rather
   * than a loss).
   */
  private async deliver(events: readonly HecEvent[], call: ExportCall): Promise<void> {
    const { result } = call;
    let pending = events;
    while (pending.length > 0) {
      const verdict = await this.post(pending, call);
      switch (verdict.kind) {
        case 'delivered':
          // Reported per request: after a crash only the requests HEC did not confirm are sent again.
          call.delivered?.(pending.map((e) => e.position));
          return;
        case 'retry':
          for (const e of pending) result.again(e.position, verdict.reason, verdict.retryAfterMs);
          return;
        case 'bad-index':
          for (const e of pending) {
            if (e.ownIndex) {
              result.reject(e.position, `${verdict.reason}: the record's index "${e.index}" (com.splunk.index)`);
            } else {
              // The configured index is a setup problem, not the records' fault: keep them.
              result.again(e.position, `${verdict.reason}: the configured index "${e.index}"; fix index`);
            }
          }
          return;
        case 'bad-event':
        case 'too-large': {
          if (pending.length === 1) {
            result.reject(pending[0]!.position, verdict.reason);
            return;
          }
          const n = verdict.kind === 'bad-event' ? verdict.invalidEvent : undefined;
          if (n !== undefined && n >= 0 && n < pending.length) {
            result.reject(pending[n]!.position, `${verdict.reason}, invalid-event-number ${n} of ${pending.length}`);
            pending = pending.filter((_, i) => i !== n);
            continue;
          }
          const half = pending.length >>> 1;
          await Promise.all([this.deliver(pending.slice(0, half), call), this.deliver(pending.slice(half), call)]);
          return;
        }
      }
    }
  }

  /** One POST of `events`; with ack, resolves only once they are acknowledged (or not, in time). */
  private async post(events: readonly HecEvent[], call: ExportCall): Promise<HecVerdict> {
    const { signal } = call;
    const buffer = await this.slots.acquire();
    let verdict: HecVerdict;
    try {
      const raw = encodeEvents(events, buffer);
      const body = this.config.disable_compression
        ? raw
        : await gzip(raw, { level: this.config.compression_level, chunkSize: GZIP_CHUNK_BYTES });
      const res = await send(this.urls.event, {
        method: 'POST',
        headers: { ...this.headers, 'Content-Length': body.length },
        body,
        agent: this.agent!,
        timeoutMs: this.timeoutMs,
        ...(signal === undefined ? {} : { signal }),
      });
      verdict = classify(res.status, res.body, res.headers);
      // A refused token may have been rotated in token_file: look now rather than at the next interval.
      if (res.status === 401 || res.status === 403) void this.token?.check();
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      verdict = signal?.aborted ? SHUTTING_DOWN : { kind: 'retry', reason: `Splunk HEC ${err.message}` };
    } finally {
      this.slots.release(buffer);
    }
    if (verdict.kind !== 'delivered' || this.acks === undefined) return verdict;
    if (verdict.ackId === undefined) {
      if (!this.warnedNoAckId) {
        this.warnedNoAckId = true;
        this.logger.warn(
          'ack is on but Splunk HEC answers without an ackId (indexer acknowledgement is off for the token): records count as delivered when HEC accepts them',
        );
      }
      return verdict;
    }
    const deadline = Date.now() + this.ackTimeoutMs;
    const ackId = verdict.ackId;
    // Kept across a crash: after the restart HEC is asked about it before the events are sent again.
    this.ackState?.add({ id: ackId, deadline, seqs: seqRanges(events, call.records) });
    const acked = await this.acks.wait(ackId, signal, deadline);
    // On shutdown the request stays pending in the state, for the next start to ask about.
    if (acked || !signal?.aborted) this.ackState?.remove(ackId);
    if (acked) return verdict;
    if (signal?.aborted) return SHUTTING_DOWN;
    return {
      kind: 'retry',
      reason: `Splunk HEC did not acknowledge ackId ${verdict.ackId} (${events.length} events) within ack_timeout ${this.config.ack_timeout}: sending them again`,
    };
  }

  private async queryAcks(ids: readonly number[]): Promise<ReadonlySet<number>> {
    const body = JSON.stringify({ acks: ids });
    let res;
    try {
      res = await send(this.urls.ack, {
        method: 'POST',
        headers: { ...this.ackHeaders, 'Content-Length': Buffer.byteLength(body) },
        body,
        agent: this.agent!,
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (err instanceof NetworkError) throw new Error(`Splunk HEC ${err.message}`);
      throw err;
    }
    let acks: unknown;
    try {
      acks = (JSON.parse(res.body) as { acks?: unknown }).acks;
    } catch {
      acks = undefined;
    }
    if (res.status !== 200 || typeof acks !== 'object' || acks === null) {
      throw new Error(`Splunk HEC ack query: HTTP ${res.status}${res.body ? `: ${snippet(res.body)}` : ''}`);
    }
    const done = new Set<number>();
    for (const [id, ok] of Object.entries(acks as Record<string, unknown>)) if (ok === true) done.add(Number(id));
    return done;
  }

  /** Logs what `GET /services/collector/health` says; never fails the start (records wait in the spool). */
  private async checkHealth(): Promise<void> {
    const where = { endpoint: this.urls.display };
    try {
      const res = await send(this.urls.health, {
        method: 'GET',
        headers: { 'User-Agent': 'otel-audit' },
        agent: this.agent!,
        timeoutMs: this.timeoutMs,
      });
      if (res.status === 200) this.logger.info({ ...where, status: res.status }, 'Splunk HEC is healthy');
      else {
        this.logger.warn(
          { ...where, status: res.status, response: snippet(res.body) },
          'Splunk HEC reports a problem; records are kept in the spool until it takes them',
        );
      }
    } catch (err) {
      if (this.closing) return;
      this.logger.warn(
        { ...where, err: (err as Error).message },
        'Splunk HEC is unreachable; records are kept in the spool until it takes them',
      );
    }
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    this.token?.stop();
    await this.acks?.close();
    await this.ackState?.close();
    this.agent?.destroy();
    await this.health;
  }
}
