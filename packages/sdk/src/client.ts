import type { Logger, LoggerProvider as ApiLoggerProvider } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
  type Resource,
} from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import * as grpc from '@grpc/grpc-js';
import { resolveExporterSettings, type ExporterOptions, type ExporterSettings } from './config.js';
import { AuditLogError } from './errors.js';
import type { AuditEvent } from './events/audit-event.js';
import { AcknowledgedDelivery } from './transport/acknowledged-delivery.js';
import { SDK_NAME, SDK_VERSION } from './version.js';

export interface AuditClientOptions extends ExporterOptions {
  /**
   * The application's own LoggerProvider: `emit()` then goes through the app's OTel pipeline.
   * Without it the client builds one with a batch processor and the OTLP exporter.
   */
  loggerProvider?: ApiLoggerProvider;
  /** Resource attributes added to the detected ones (`service.name`, ... from OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME). */
  resource?: Record<string, string>;
  /** How long `log()` may take, retries included, before it rejects. Default 30000. */
  logTimeoutMillis?: number;
  /** Batch processor settings for `emit()` (when the client builds the LoggerProvider). */
  batch?: { maxQueueSize?: number; maxExportBatchSize?: number; scheduledDelayMillis?: number };
}

export interface FailedEvent {
  readonly event: AuditEvent;
  readonly error: AuditLogError;
}

export interface AuditClient {
  /** Resolves when the sidecar has durably accepted the event; rejects with an {@link AuditLogError} otherwise. */
  log(event: AuditEvent): Promise<void>;
  /** Fire-and-forget through the OTel batch pipeline; throws {@link AuditValidationError} for an invalid event. */
  emit(event: AuditEvent): void;
  /** Logs many events; returns the ones that failed (validation or delivery) and never throws for one bad event. */
  logBatch(events: readonly AuditEvent[]): Promise<FailedEvent[]>;
  /** Waits for pending `log()` calls and exports what `emit()` queued. */
  flush(): Promise<void>;
  /** Flushes, then releases connections. The client cannot be used afterwards. */
  shutdown(): Promise<void>;
}

/** Captures the SDK's ReadableLogRecord of an emit, so `log()` records are built exactly like `emit()` ones. */
class CaptureProcessor implements LogRecordProcessor {
  captured: ReadableLogRecord | undefined;
  onEmit(record: ReadableLogRecord): void {
    this.captured = record;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The SDK would drop attributes past its default limit of 128; audit events need them all. */
const LOG_RECORD_LIMITS = { attributeCountLimit: 100_000 };

function buildResource(extra: Record<string, string> | undefined): Resource {
  return defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes(extra ?? {}));
}

function createExporter(settings: ExporterSettings): LogRecordExporter {
  const compression = settings.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  if (settings.protocol === 'grpc') {
    const secure = settings.url.startsWith('https:');
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(settings.headers)) metadata.set(k.toLowerCase(), v);
    return new GrpcLogExporter({
      url: settings.url,
      compression,
      metadata,
      timeoutMillis: settings.timeoutMillis,
      credentials: secure
        ? grpc.credentials.createSsl(
            settings.tls.ca ? Buffer.from(settings.tls.ca) : null,
            settings.tls.key ? Buffer.from(settings.tls.key) : null,
            settings.tls.cert ? Buffer.from(settings.tls.cert) : null,
          )
        : grpc.credentials.createInsecure(),
    });
  }
  const config = {
    url: settings.url,
    headers: { ...settings.headers },
    timeoutMillis: settings.timeoutMillis,
    compression,
    httpAgentOptions: { keepAlive: true, ...settings.tls },
  };
  return settings.protocol === 'http/json' ? new JsonLogExporter(config) : new ProtoLogExporter(config);
}

class DefaultAuditClient implements AuditClient {
  private readonly capture = new CaptureProcessor();
  private readonly recordLogger: Logger;
  private readonly delivery: AcknowledgedDelivery;
  private readonly ownProvider: LoggerProvider | undefined;
  private readonly emitLogger: Logger;
  private readonly appProvider: ApiLoggerProvider | undefined;
  private closed = false;

  constructor(options: AuditClientOptions) {
    const settings = resolveExporterSettings(options);
    const resource = buildResource(options.resource);
    const recordProvider = new LoggerProvider({
      resource,
      processors: [this.capture],
      logRecordLimits: LOG_RECORD_LIMITS,
    });
    this.recordLogger = recordProvider.getLogger(SDK_NAME, SDK_VERSION);
    this.delivery = new AcknowledgedDelivery(settings, {
      deadlineMillis: options.logTimeoutMillis ?? 30_000,
      maxBatchSize: 512,
      maxConcurrency: 4,
    });
    if (options.loggerProvider) {
      this.appProvider = options.loggerProvider;
      this.emitLogger = options.loggerProvider.getLogger(SDK_NAME, SDK_VERSION);
    } else {
      this.ownProvider = new LoggerProvider({
        resource,
        logRecordLimits: LOG_RECORD_LIMITS,
        processors: [new BatchLogRecordProcessor({ exporter: createExporter(settings), ...options.batch })],
      });
      this.emitLogger = this.ownProvider.getLogger(SDK_NAME, SDK_VERSION);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new AuditLogError('the audit client is shut down');
  }

  async log(event: AuditEvent): Promise<void> {
    this.checkOpen();
    event.validate();
    await this.delivery.deliver(this.toReadable(event), event.uuid);
  }

  emit(event: AuditEvent): void {
    this.checkOpen();
    event.validate();
    this.emitLogger.emit(event.toLogRecord());
  }

  async logBatch(events: readonly AuditEvent[]): Promise<FailedEvent[]> {
    this.checkOpen();
    const results = await Promise.allSettled(
      events.map(async (event) => {
        event.validate();
        await this.delivery.deliver(this.toReadable(event), event.uuid);
      }),
    );
    const failed: FailedEvent[] = [];
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        const error =
          r.reason instanceof AuditLogError ? r.reason : new AuditLogError(String(r.reason), { cause: r.reason });
        failed.push({ event: events[i]!, error });
      }
    });
    return failed;
  }

  async flush(): Promise<void> {
    await this.delivery.idle();
    if (this.ownProvider) await this.ownProvider.forceFlush();
    else await (this.appProvider as { forceFlush?: () => Promise<void> } | undefined)?.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.ownProvider?.shutdown();
    this.delivery.close();
  }

  private toReadable(event: AuditEvent): ReadableLogRecord {
    this.recordLogger.emit(event.toLogRecord());
    const record = this.capture.captured;
    this.capture.captured = undefined;
    if (record === undefined) throw new AuditLogError('the OpenTelemetry SDK did not produce a log record');
    return record;
  }
}

/**
 * Creates an audit client. Settings come from `options`, then the standard `OTEL_EXPORTER_OTLP_*`
 * environment variables; by default it talks OTLP/HTTP protobuf to the sidecar on 127.0.0.1:4318.
 */
export function createAuditClient(options: AuditClientOptions = {}): AuditClient {
  return new DefaultAuditClient(options);
}
