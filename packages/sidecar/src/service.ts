import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComponentContext, Exporter, LogsConsumer, Receiver } from './component.js';
import { defaultRegistry, type ComponentRegistry } from './components.js';
import type { ServiceConfig } from './config/load.js';
import { DeadLetterStore } from './deadletter/dead-letter-store.js';
import type { LogsRequest } from './otlp/model.js';
import { FanoutSink } from './pipeline/fanout-sink.js';
import { AuditPipeline, type PipelineResult } from './pipeline/pipeline.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { TelemetryServer } from './telemetry/server.js';

export interface StartOptions {
  readonly registry?: ComponentRegistry;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/** A running otel-audit: receivers → pipeline → exporters, plus telemetry. */
export class Service {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: ServiceConfig,
    readonly logger: Logger,
    readonly metrics: Metrics,
    private readonly receivers: readonly { id: string; receiver: Receiver }[],
    private readonly exporters: readonly Exporter[],
    private readonly deadLetters: DeadLetterStore,
    private readonly telemetry: TelemetryServer | undefined,
  ) {}

  static async start(config: ServiceConfig, options: StartOptions = {}): Promise<Service> {
    const registry = options.registry ?? defaultRegistry();
    const logger = options.logger ?? createLogger(config.telemetry.logs.level);
    const metrics = options.metrics ?? new Metrics();
    const storageDirectory = config.storage.directory;
    await mkdir(storageDirectory, { recursive: true });
    const deadLetters = new DeadLetterStore(join(storageDirectory, 'dead-letter'));
    const context = (id: string): ComponentContext => ({ id, logger, metrics, storageDirectory, deadLetters });

    const exporters = config.exporters.map((c) => registry.exporters.get(c.type)!.create(c.config, context(c.id)));
    const started: Exporter[] = [];
    const receivers: { id: string; receiver: Receiver }[] = [];
    let telemetry: TelemetryServer | undefined;
    try {
      for (const e of exporters) {
        await e.start();
        started.push(e);
      }
      const pipeline = new AuditPipeline(new FanoutSink(exporters, metrics), deadLetters);
      for (const c of config.receivers) {
        const consumer: LogsConsumer = {
          consume: async (request: LogsRequest) => {
            const result = await pipeline.process(request);
            recordPipelineMetrics(metrics, c.id, result);
            return result;
          },
        };
        const receiver = registry.receivers.get(c.type)!.create(c.config, context(c.id), consumer);
        await receiver.start();
        receivers.push({ id: c.id, receiver });
      }
      if (config.telemetry.address !== undefined) {
        telemetry = new TelemetryServer(config.telemetry.address, metrics, []);
        await telemetry.start();
      }
    } catch (err) {
      await Promise.allSettled(receivers.map((r) => r.receiver.shutdown()));
      await Promise.allSettled(started.map((e) => e.shutdown()));
      await deadLetters.close();
      throw err;
    }
    const service = new Service(config, logger, metrics, receivers, exporters, deadLetters, telemetry);
    logger.info(
      { config: config.source, endpoints: service.addresses(), exporters: exporters.map((e) => e.id) },
      'otel-audit started',
    );
    return service;
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

  /** Stops accepting, waits for requests in flight, then closes exporters and stores. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('otel-audit shutting down');
      await Promise.allSettled(this.receivers.map((r) => r.receiver.shutdown()));
      await Promise.allSettled(this.exporters.map((e) => e.shutdown()));
      await this.deadLetters.close();
      await this.telemetry?.shutdown();
      this.logger.info('otel-audit stopped');
    })();
    return this.stopping;
  }
}

function recordPipelineMetrics(metrics: Metrics, receiver: string, r: PipelineResult): void {
  if (r.accepted > 0) metrics.receiverRecords.inc({ receiver, outcome: 'accepted' }, r.accepted);
  if (r.rejected.length > 0) metrics.receiverRecords.inc({ receiver, outcome: 'rejected' }, r.rejected.length);
  if (r.ignored > 0) metrics.receiverRecords.inc({ receiver, outcome: 'ignored' }, r.ignored);
}
