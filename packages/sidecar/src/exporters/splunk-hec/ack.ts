import type { Logger } from '../../telemetry/logger.js';

/** Asks HEC about ack ids: resolves with the ids it reports as indexed (`{"acks":{"3":true}}`). */
export type AckQuery = (ids: readonly number[]) => Promise<ReadonlySet<number>>;

interface Pending {
  readonly deadline: number;
  readonly resolve: (acked: boolean) => void;
}

/** Most ack ids asked about in one query. */
const IDS_PER_QUERY = 1000;

/**
 * Indexer acknowledgement for one channel: requests register the `ackId` HEC gave them and wait;
 * while any are pending, HEC is polled every `intervalMs`; an id resolves `true` once HEC says it
 * is indexed, or `false` when `timeoutMs` passed without that (the caller then resends).
 */
export class AckTracker {
  private readonly pending = new Map<number, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;
  private lastError: string | undefined;

  constructor(
    private readonly query: AckQuery,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Requests waiting for their acknowledgement. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Resolves `true` once `ackId` is acknowledged, `false` after the timeout (or at `deadline`, epoch
   * ms), on close or when `signal` aborts.
   */
  wait(ackId: number, signal?: AbortSignal, deadline = this.now() + this.timeoutMs): Promise<boolean> {
    if (this.closed || signal?.aborted) return Promise.resolve(false);
    // HEC numbers acks per channel; a reused id (HEC restarted) leaves the older request unconfirmed.
    this.pending.get(ackId)?.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = () => {
        if (this.pending.get(ackId)?.resolve !== settle) return;
        this.pending.delete(ackId);
        resolve(false);
      };
      const settle = (acked: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(acked);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(ackId, { deadline, resolve: settle });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer !== undefined || this.polling !== undefined || this.closed || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    const ids = [...this.pending.keys()];
    for (let i = 0; i < ids.length && !this.closed; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY);
      try {
        const acked = await this.query(chunk);
        for (const id of chunk) {
          if (!acked.has(id)) continue;
          this.pending.get(id)?.resolve(true);
          this.pending.delete(id);
        }
        if (this.lastError !== undefined) this.logger.info('Splunk HEC acknowledgement queries work again');
        this.lastError = undefined;
      } catch (err) {
        const message = (err as Error).message;
        if (message !== this.lastError) {
          this.logger.warn(
            { err: message },
            'Splunk HEC acknowledgement query failed; unacknowledged events will be resent after ack_timeout',
          );
        }
        this.lastError = message;
      }
    }
    const now = this.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) continue;
      p.resolve(false);
      this.pending.delete(id);
    }
  }

  /** Stops polling; requests still waiting resolve `false` (their records stay in the spool). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.polling;
    for (const p of this.pending.values()) p.resolve(false);
    this.pending.clear();
  }
}
