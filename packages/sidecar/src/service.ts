import { join } from 'node:path';
import type { ComponentContext, Exporter, Receiver } from './component.js';
import { defaultRegistry, type ComponentRegistry } from './components.js';
import type { ServiceConfig } from './config/load.js';
import { retryPolicy, type DeliveryConfig } from './delivery/config.js';
import { ExporterQueue } from './delivery/exporter-queue.js';
import type { ConsumeResult, PipelineConsumer, StoreMark, StoredSince } from './model/consume.js';
import type { RetrievedRecord } from './model/local-record.js';
import type { DecodeLimits, DecodeMeter, RecordLimits } from './model/limits.js';
import { MemoryBudget } from './model/memory-budget.js';
import type { LogsRequest } from './model/otlp-logs.js';
import { openStorage, spoolCacheBytes, storagePaths, type Storage } from './open-storage.js';
import { AuditPipeline } from './pipeline/pipeline.js';
import { ProtoPipeline } from './pipeline/proto-pipeline.js';
import { SpoolSink } from './pipeline/spool-sink.js';
import { replayDeadLetters, replayLimits, type ReplayFilter, type ReplayResult } from './replay/replay.js';
import { ReplayRequestWatcher } from './replay/replay-requests.js';
import { retrievedSince } from './spool/stored-since.js';
import { tailUuids } from './spool/tail-uuids.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { RateLimitedLog } from './telemetry/rate-limited.js';
import { TelemetryServer } from './telemetry/server.js';
import { deriveIntakeBudget } from './util/memory-limit.js';

export interface StartOptions {
  readonly registry?: ComponentRegistry;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /**
   * Another process took the storage directory over (this one was frozen or cut off longer than
   * the lock's stale interval). Nothing is written any more; `otel-audit run` exits. Default: the
   * service stops taking and delivering records.
   */
  readonly onFenced?: (reason: string) => void;
}

const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/**
 * How much of the spool's end is read at start, and how long after it a record with one of its
 * uuids is not stored again: more than the requests a crash can leave unanswered, and longer than
 * their senders take to send them again (see SpoolSink).
 */
const RESENT_WINDOW_BYTES = 8 * 1024 * 1024;
const RESENT_WINDOW_MS = 15 * 60_000;

/** `<storage>/state/<id>/`: the id URL-encoded, so `type/name` stays one directory and cannot climb out. */
export function componentStateDirectory(storageDirectory: string, id: string): string {
  return join(storageDirectory, 'state', encodeURIComponent(id));
}

/**
 * A running otel-audit: receivers → pipeline → spool → one queue per exporter → exporters, plus
 * telemetry. Start-up and shutdown order follow the data: shutdown stops the receivers first, lets
 * the exporters finish what is in flight, then persists the cursors.
 */
export class Service {
  private stopping: Promise<void> | undefined;
  private readonly cleanups: (() => Promise<void>)[] = [];
  private readonly receivers: { id: string; receiver: Receiver }[] = [];
  private readonly queues: ExporterQueue[] = [];
  private readonly exporters: Exporter[] = [];
  private telemetry: TelemetryServer | undefined;
  private storage!: Storage;
  private fenced = false;

  private constructor(
    readonly config: ServiceConfig,
    readonly logger: Logger,
    readonly metrics: Metrics,
    private readonly registry: ComponentRegistry,
    private readonly onFenced?: (reason: string) => void,
  ) {}

  static async start(config: ServiceConfig, options: StartOptions = {}): Promise<Service> {
    const service = new Service(
      config,
      options.logger ?? createLogger(config.telemetry.logs.level),
      options.metrics ?? new Metrics(),
      options.registry ?? defaultRegistry(),
      options.onFenced,
    );
    try {
      await service.startParts();
    } catch (err) {
      await service.stopParts(Date.now());
      throw err;
    }
    service.logger.info(
      { config: config.source, endpoints: service.addresses(), exporters: service.exporters.map((e) => e.id) },
      'otel-audit started',
    );
    return service;
  }

  private async startParts(): Promise<void> {
    const { config, logger, metrics, registry } = this;
    const overflowLog = new RateLimitedLog(60_000);
    const storage = await openStorage(config, {
      logger,
      observer: {
        onSync: (s) => metrics.spoolSyncDuration.observe(s),
        onDamage: (bytes) => metrics.spoolDamagedBytes.inc(bytes),
        onLostRecords: (records, cause) => metrics.spoolLostRecords.inc({ cause }, records),
        onCursorReset: (exporter, reason) => metrics.spoolCursorResets.inc({ exporter, reason }),
        onCursorSync: (s) => metrics.spoolCursorSyncDuration.observe(s),
      },
      onDeadLetterOverflow: (component, records, usedBytes, maxBytes) => {
        metrics.deadLetterOverflow.inc({ component }, records);
        overflowLog.add(records, (count) =>
          logger.warn(
            { component, records: count, usedBytes, maxBytes },
            'dead-letter store full: invalid records are rejected but no longer kept',
          ),
        );
      },
    });
    this.storage = storage;
    this.cleanups.push(() => storage.close());
    storage.lock.onLost((reason) => this.fence(reason));
    const { spool, deadLetters } = storage;

    const budget =
      config.intakeMemoryBudget === 'auto'
        ? deriveIntakeBudget(spoolCacheBytes(config.storage.maxSizeBytes))
        : { bytes: config.intakeMemoryBudget, from: 'service.intake_memory_budget' };
    const intakeMemory = new MemoryBudget(budget.bytes);
    metrics.observeIntakeMemory(() => ({ limit: intakeMemory.limitBytes, inUse: intakeMemory.inUse() }));
    logger.info({ bytes: budget.bytes, from: budget.from }, 'intake memory budget');
    const context = (id: string): ComponentContext => ({
      id,
      logger,
      metrics,
      stateDirectory: componentStateDirectory(storage.directory, id),
      intakeMemory,
    });
    // Receivers are created and prepared (crash recovery against the spool) before any exporter
    // can deliver records and let the spool delete them; they start taking records last.
    const sink = new SpoolSink(spool, {
      uuids: await tailUuids(storagePaths(storage.directory).queue, RESENT_WINDOW_BYTES),
      until: Date.now() + RESENT_WINDOW_MS,
      onDuplicates: (n) => metrics.spoolResentDuplicates.inc(n),
    });
    const pipeline = new AuditPipeline(sink, deadLetters);
    const protoPipeline = new ProtoPipeline(sink, deadLetters, pipeline);
    const receivers = config.receivers.map((c) => ({
      id: c.id,
      receiver: registry.receivers
        .get(c.type)!
        .create(c.config, context(c.id), this.consumerFor(c.id, pipeline, protoPipeline, sink, storage)),
    }));
    for (const { receiver } of receivers) await receiver.prepare?.();
    for (const c of config.exporters) {
      const exporter = registry.exporters.get(c.type)!.create(c.config, context(c.id));
      await exporter.start();
      this.exporters.push(exporter);
      const delivery = c.config as DeliveryConfig;
      const queue = new ExporterQueue(
        exporter,
        spool,
        deadLetters,
        {
          numConsumers: delivery.sending_queue.num_consumers,
          batchSize: delivery.sending_queue.batch_size,
          maxBatchBytes: MAX_BATCH_BYTES,
          retry: retryPolicy(delivery.retry_on_failure),
        },
        logger.child({ exporter: c.id }),
        metrics,
      );
      queue.start();
      this.queues.push(queue);
    }
    metrics.observe({
      spool: () => spool.stats(),
      storage: () => ({
        deadLetterBytes: deadLetters.usedBytesNow(),
        deadLetterMaxBytes: deadLetters.maxBytes,
        volumeFull: spool.volumeFull(),
      }),
      exporters: () =>
        this.queues.map((q) => ({
          id: q.id,
          backlog: spool.backlog(q.id),
          oldestPending: q.oldestPending(),
          failing: q.failing() !== undefined,
        })),
    });

    for (const r of receivers) {
      await r.receiver.start();
      this.receivers.push(r);
    }
    const watcher = new ReplayRequestWatcher(
      storage.directory,
      (filter) => this.replay(filter),
      logger.child({ component: 'replay' }),
    );
    watcher.start();
    this.cleanups.push(() => watcher.stop());
    if (config.telemetry.address !== undefined) {
      this.telemetry = new TelemetryServer(config.telemetry.address, metrics, [
        () => {
          const lost = storage.lock.lost();
          return lost === undefined ? undefined : `storage lock lost: ${lost}`;
        },
        () => spool.unavailable(),
      ]);
      await this.telemetry.start();
    }
  }

  private consumerFor(
    receiver: string,
    pipeline: AuditPipeline,
    protoPipeline: ProtoPipeline,
    sink: SpoolSink,
    storage: Storage,
  ): PipelineConsumer {
    const metrics = this.metrics;
    const logger = this.logger;
    const counted = (result: ConsumeResult): ConsumeResult => {
      if (result.accepted > 0) metrics.receiverRecords.inc({ receiver, outcome: 'accepted' }, result.accepted);
      if (result.rejected.length > 0)
        metrics.receiverRecords.inc({ receiver, outcome: 'rejected' }, result.rejected.length);
      if (result.ignored > 0) metrics.receiverRecords.inc({ receiver, outcome: 'ignored' }, result.ignored);
      return result;
    };
    return {
      async consumeLocal(records: readonly RetrievedRecord[]): Promise<void> {
        try {
          await sink.writeLocal(records);
        } catch (err) {
          metrics.receiverRecords.inc({ receiver, outcome: 'refused' }, records.length);
          throw err;
        }
        metrics.receiverRecords.inc({ receiver, outcome: 'accepted' }, records.length);
      },
      mark: () => storage.spool.nextSequence(),
      storedSince: (mark: StoreMark, systemId: string): Promise<StoredSince> =>
        retrievedSince(
          storagePaths(storage.directory).queue,
          mark,
          storage.spool.nextSequence(),
          systemId,
          logger.child({ component: 'spool' }),
        ),
      async consumeProto(
        body: Buffer,
        decodeLimits: DecodeLimits,
        limits: RecordLimits,
        meter?: DecodeMeter,
      ): Promise<ConsumeResult> {
        // A malformed request throws here: nothing of it was stored, nor is it counted as refused.
        const prepared = await protoPipeline.prepare(body, decodeLimits, limits, meter);
        try {
          return counted(await prepared.store());
        } catch (err) {
          metrics.receiverRecords.inc({ receiver, outcome: 'refused' }, prepared.received);
          throw err;
        }
      },
      async consume(request: LogsRequest, limits: RecordLimits): Promise<ConsumeResult> {
        try {
          return counted(await pipeline.process(request, limits));
        } catch (err) {
          const records = request.resourceLogs.reduce(
            (n, rl) => n + rl.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0),
            0,
          );
          metrics.receiverRecords.inc({ receiver, outcome: 'refused' }, records);
          throw err;
        }
      },
    };
  }

  /**
   * The storage was taken over by another process: from now on every write fails (each checks the
   * lock), and this process must go. Receivers stop taking requests, exporters stop.
   */
  private fence(reason: string): void {
    if (this.fenced) return;
    this.fenced = true;
    this.logger.fatal(
      { reason, directory: this.storage.directory },
      'another process took over the storage directory: stopping without writing anything more',
    );
    if (this.onFenced !== undefined) {
      this.onFenced(reason);
      return;
    }
    for (const { receiver } of this.receivers) void receiver.shutdown().catch(() => undefined);
    for (const q of this.queues) void q.stop(Date.now()).catch(() => undefined);
  }

  /** Listening addresses: `<receiver id>/<protocol>` and `telemetry`. */
  addresses(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { id, receiver } of this.receivers) {
      for (const [protocol, address] of Object.entries(receiver.addresses())) out[`${id}/${protocol}`] = address;
    }
    const t = this.telemetry?.address();
    if (t !== undefined) out['telemetry'] = t;
    return out;
  }

  /** Puts dead letters back into the spool (see `otel-audit replay`). */
  replay(filter: ReplayFilter): Promise<ReplayResult> {
    return replayDeadLetters(
      this.storage.deadLetters,
      this.storage.spool,
      this.config.exporters.map((e) => e.id),
      replayLimits(this.config, this.registry),
      filter,
    );
  }

  /** The exporter queues (for tests and the CLI). */
  exporterQueues(): readonly ExporterQueue[] {
    return this.queues;
  }

  /**
   * Stops accepting, lets exporters finish in-flight batches until `shutdown_timeout`, persists the
   * cursors and closes the stores. Idempotent.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('otel-audit shutting down');
      await this.stopParts(Date.now() + this.config.shutdownTimeoutMs);
      this.logger.info('otel-audit stopped');
    })();
    return this.stopping;
  }

  private async stopParts(deadline: number): Promise<void> {
    await Promise.allSettled(this.receivers.map((r) => r.receiver.shutdown()));
    await Promise.allSettled(this.queues.map((q) => q.stop(deadline)));
    await Promise.allSettled(this.exporters.map((e) => e.shutdown()));
    await this.telemetry?.shutdown();
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        this.logger.error({ err }, 'error during shutdown');
      }
    }
  }
}
