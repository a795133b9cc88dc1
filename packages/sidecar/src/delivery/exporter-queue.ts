import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { DeliveredCallback, Exporter, ExportOutcome } from '../component.js';
import { exporterDeadLetter, type DeadLetterWriter } from '../model/dead-letter.js';
import { PermanentError, RetryableExportError } from '../model/errors.js';
import type { SpooledRecord } from '../model/spooled-record.js';
import type { ConsumerProgress, Cursor, SeqRange } from '../spool/cursors.js';
import type { ReadBatch } from '../spool/reader.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { backoffMs, type RetryPolicy } from './config.js';
import { DeliveryProgress, type BatchSpan } from './progress.js';

export interface QueueOptions {
  readonly numConsumers: number;
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly retry: RetryPolicy;
}

/** Reads one exporter's records in order. */
export interface RecordReader {
  /** The next records, waiting until there is one; undefined once the source closes or `signal` aborts. */
  read(maxRecords: number, maxBytes: number, signal?: AbortSignal): Promise<ReadBatch | undefined>;
  close(): Promise<void>;
}

/** Where a queue reads its exporter's records and records its progress (the spool). */
export interface DeliverySource {
  reader(consumer: string): RecordReader;
  /** Where the consumer's reader starts, and what it finished above that before (persisted). */
  progress(consumer: string): ConsumerProgress;
  /** Everything before `cursor` and in the ranges `done` above it is delivered or dead-lettered. */
  commitCursor(consumer: string, cursor: Cursor, done: readonly SeqRange[]): void;
}

interface InFlight {
  readonly span: BatchSpan;
  readonly oldestReceivedAt: number;
}

/**
 * One exporter's delivery loop: reads its records from the spool in order, exports them in batches
 * (up to `numConsumers` batches at once), retries what failed with exponential backoff and jitter
 * (honouring Retry-After) for as long as it takes, dead-letters what the destination refuses for
 * good, and moves the exporter's cursor forward over the batches that are finished, in order.
 */
export class ExporterQueue {
  private readonly reader: RecordReader;
  /** Aborted on stop: no new batches are read. */
  private readonly stopReading = new AbortController();
  /** Aborted at the shutdown deadline: batches in flight give up. */
  private readonly abort = new AbortController();
  private readonly inFlight: InFlight[] = [];
  private readonly progress: DeliveryProgress;
  private running: Promise<void> | undefined;
  private stopping = false;
  private slotFreed: (() => void) | undefined;
  /** Why the last attempt failed, while the exporter is failing (for /readyz and logs). */
  private failure: string | undefined;

  constructor(
    private readonly exporter: Exporter,
    private readonly source: DeliverySource,
    private readonly deadLetters: DeadLetterWriter,
    private readonly options: QueueOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    // Every request in flight (up to num_consumers × the exporter's concurrency) listens for the abort.
    setMaxListeners(0, this.stopReading.signal, this.abort.signal);
    this.progress = new DeliveryProgress(source.progress(exporter.id));
    this.reader = source.reader(exporter.id);
  }

  get id(): string {
    return this.exporter.id;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Receive time of the oldest record not yet delivered, or undefined when caught up. */
  oldestPending(): number | undefined {
    return this.inFlight.find((b) => !b.span.finished)?.oldestReceivedAt;
  }

  /** The reason deliveries are failing right now, or undefined. */
  failing(): string | undefined {
    return this.failure;
  }

  /**
   * Stops reading new batches and gives the ones in flight until `deadline` (epoch ms) to finish;
   * what is unfinished then stays in the spool and is delivered after the restart.
   */
  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.stopReading.abort();
    this.slotFreed?.();
    const timer = setTimeout(() => this.abort.abort(), Math.max(0, deadline - Date.now()));
    await this.running;
    clearTimeout(timer);
    await this.reader.close();
  }

  private async loop(): Promise<void> {
    const batches = new Set<Promise<void>>();
    while (!this.stopping) {
      if (this.inFlight.length - this.inFlight.filter((b) => b.span.finished).length >= this.options.numConsumers) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      let batch;
      try {
        batch = await this.reader.read(this.options.batchSize, this.options.maxBatchBytes, this.stopReading.signal);
      } catch (err) {
        // An I/O error reading the spool: keep the cursor where it is and try again.
        this.logger.error({ err }, 'cannot read the spool; retrying');
        await sleep(backoffMs(this.options.retry, 3), this.stopReading.signal);
        continue;
      }
      if (batch === undefined) break;
      const span = this.progress.begin(batch.end);
      const records = this.toSend(batch.records);
      const entry: InFlight = {
        span,
        oldestReceivedAt: records.reduce((m, r) => Math.min(m, r.receivedAt), Infinity),
      };
      this.inFlight.push(entry);
      if (records.length === 0) {
        this.finished(entry);
        continue;
      }
      const p: Promise<void> = this.deliver(records)
        .then(
          () => this.finished(entry),
          (err: unknown) => this.logger.debug({ err }, 'batch left in the spool for after the restart'),
        )
        .finally(() => batches.delete(p));
      batches.add(p);
    }
    await Promise.allSettled([...batches]);
  }

  /** The records of a batch that need sending: not those the destination confirmed before a restart (persisted above the cursor). */
  private toSend(batch: readonly SpooledRecord[]): SpooledRecord[] {
    const out = batch.filter((r) => !this.progress.isDone(r.seq));
    if (out.length < batch.length)
      this.metrics.exporterRecords.inc({ exporter: this.id, outcome: 'already_delivered' }, batch.length - out.length);
    return out;
  }

  private finished(entry: InFlight): void {
    // The cursor moves through the longest prefix of finished batches, so it never skips one in
    // flight; a batch finished out of order is persisted as a range above it.
    this.progress.finish(entry.span);
    while (this.inFlight.length > 0 && this.inFlight[0]!.span.finished) this.inFlight.shift();
    this.commit();
    this.slotFreed?.();
    this.slotFreed = undefined;
  }

  /** Records confirmed before their batch is finished. */
  private confirmed(records: readonly SpooledRecord[], indexes: readonly number[]): void {
    const seqs: number[] = [];
    for (const i of indexes) {
      const r = records[i];
      if (r !== undefined) seqs.push(r.seq);
    }
    if (seqs.length === 0) return;
    this.progress.markDone(seqs);
    this.commit();
  }

  private commit(): void {
    const { cursor, done } = this.progress.snapshot();
    this.source.commitCursor(this.id, cursor, done);
  }

  /** Delivers a batch completely (or dead-letters parts of it); rejects only when stopped by shutdown. */
  private async deliver(batch: readonly SpooledRecord[]): Promise<void> {
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (this.abort.signal.aborted) throw new Error('shutdown');
      let outcome: ExportOutcome;
      const start = performance.now();
      const current = pending;
      const onDelivered: DeliveredCallback = (indexes) => this.confirmed(current, indexes);
      try {
        outcome = await this.exporter.export(pending, this.abort.signal, onDelivered);
      } catch (err) {
        this.metrics.exportDuration.observe({ exporter: this.id }, (performance.now() - start) / 1000);
        if (err instanceof PermanentError) {
          await this.deadLetter(
            pending,
            pending.map((_, index) => ({ index, reason: err.message })),
          );
          this.recovered();
          return;
        }
        const retryAfter = err instanceof RetryableExportError ? err.retryAfterMs : undefined;
        const reason = err instanceof Error ? err.message : String(err);
        if (!(err instanceof RetryableExportError)) this.logger.error({ err }, 'export failed unexpectedly; retrying');
        await this.backoff(attempt, pending.length, reason, retryAfter);
        continue;
      }
      this.metrics.exportDuration.observe({ exporter: this.id }, (performance.now() - start) / 1000);
      const rejected = outcome.rejected ?? [];
      const retry = outcome.retry;
      const retryCount = retry?.indexes.length ?? 0;
      const delivered = pending.length - rejected.length - retryCount;
      if (delivered > 0) this.metrics.exporterRecords.inc({ exporter: this.id, outcome: 'exported' }, delivered);
      if (rejected.length > 0) await this.deadLetter(pending, rejected);
      if (retry === undefined || retryCount === 0) {
        this.recovered();
        return;
      }
      pending = retry.indexes.map((i) => current[i]!);
      await this.backoff(attempt, pending.length, retry.reason, retry.retryAfterMs);
    }
    this.recovered();
  }

  private async backoff(
    attempt: number,
    records: number,
    reason: string,
    retryAfterMs: number | undefined,
  ): Promise<void> {
    this.metrics.exporterRecords.inc({ exporter: this.id, outcome: 'retried' }, records);
    const delay = Math.max(retryAfterMs ?? 0, backoffMs(this.options.retry, attempt));
    if (this.failure === undefined) this.logger.warn({ reason, retryInMs: delay }, 'delivery failing; retrying');
    else this.logger.debug({ reason, attempt, retryInMs: delay }, 'delivery still failing');
    this.failure = reason;
    await sleep(delay, this.abort.signal);
  }

  private recovered(): void {
    if (this.failure !== undefined) this.logger.info('delivery recovered');
    this.failure = undefined;
  }

  private async deadLetter(
    batch: readonly SpooledRecord[],
    rejected: readonly { index: number; reason: string }[],
  ): Promise<void> {
    const now = new Date().toISOString();
    const letters = rejected.map(({ index, reason }) => exporterDeadLetter(batch[index]!, this.id, reason, now));
    // Must be durable before the cursor moves past these records; retried until it is.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deadLetters.write(this.id, letters);
        break;
      } catch (err) {
        this.logger.error({ err }, 'cannot write dead letters; retrying');
        await sleep(backoffMs(this.options.retry, attempt), this.abort.signal);
        if (this.abort.signal.aborted) throw err;
      }
    }
    this.metrics.exporterRecords.inc({ exporter: this.id, outcome: 'dead_lettered' }, letters.length);
    for (const l of letters)
      this.logger.warn({ exporter: this.id, uuid: l.uuid, reason: l.reason }, 'record dead-lettered');
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
