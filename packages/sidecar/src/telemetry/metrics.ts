import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the gauges read when Prometheus scrapes (set by the service once the parts exist). */
export interface MetricSources {
  spool(): { bytes: number; maxBytes: number; segments: number };
  /** The dead-letter store's size and limit, and whether the spool refuses writes for lack of space. */
  storage?(): { deadLetterBytes: number; deadLetterMaxBytes: number; volumeFull: boolean };
  exporters(): readonly {
    id: string;
    backlog: { bytes: number; records: number };
    oldestPending: number | undefined;
    failing: boolean;
  }[];
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Every metric otel-audit exposes on `/metrics` (documented in docs/operations.md). */
export class Metrics {
  readonly registry = new Registry();
  private sources: MetricSources | undefined;

  readonly receiverRequests = new Counter({
    name: 'otel_audit_receiver_requests_total',
    help: 'OTLP export requests handled, by receiver, protocol and response status (HTTP status or gRPC code name).',
    labelNames: ['receiver', 'protocol', 'status'] as const,
    registers: [this.registry],
  });

  readonly receiverRequestDuration = new Histogram({
    name: 'otel_audit_receiver_request_duration_seconds',
    help: 'Time from receiving an OTLP export request to answering it (includes the durable write).',
    labelNames: ['receiver', 'protocol'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly receiverRecords = new Counter({
    name: 'otel_audit_receiver_records_total',
    help: 'Log records received, by outcome: accepted (durably stored), rejected (failed validation, dead-lettered), ignored (not an audit event) or refused (not stored: spool full or unwritable; the client retries).',
    labelNames: ['receiver', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly exporterRecords = new Counter({
    name: 'otel_audit_exporter_records_total',
    help: 'Records handled by each exporter, by outcome: exported, retried (one count per record and failed attempt), dead_lettered, or already_delivered (confirmed before a restart: not sent again).',
    labelNames: ['exporter', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly exportDuration = new Histogram({
    name: 'otel_audit_exporter_export_duration_seconds',
    help: 'Duration of one export call (one batch) by exporter, successful or not.',
    labelNames: ['exporter'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly spoolSyncDuration = new Histogram({
    name: 'otel_audit_spool_fsync_duration_seconds',
    help: 'Duration of each spool write + fdatasync (one per group commit).',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly spoolCursorSyncDuration = new Histogram({
    name: 'otel_audit_spool_cursor_sync_duration_seconds',
    help: "Duration of each fdatasync of the exporters' positions (cursors.latest). They are written at once, so a crash of the process loses none; a crash of the machine loses those of this window (sent again after the restart).",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly spoolResentDuplicates = new Counter({
    name: 'otel_audit_spool_resent_duplicates_total',
    help: 'Records not stored again after a restart: the same records (uuids) were stored just before it, and their sender, which got no answer, sent them again.',
    registers: [this.registry],
  });

  readonly spoolCursorResets = new Counter({
    name: 'otel_audit_spool_cursor_resets_total',
    help: 'Exporters that started again from the oldest record in the spool because their position was missing, unreadable or invalid (records are delivered again, never skipped).',
    labelNames: ['exporter', 'reason'],
    registers: [this.registry],
  });

  readonly spoolDamagedBytes = new Counter({
    name: 'otel_audit_spool_damaged_bytes_total',
    help: 'Bytes of spool data skipped because they were torn, failed their checksum, or are gone (a file cut short or deleted).',
    registers: [this.registry],
  });

  readonly spoolLostRecords = new Counter({
    name: 'otel_audit_spool_lost_records_total',
    help: 'Stored records that could not be delivered, by cause: damaged (failed checksum), unreadable (unknown record format) or missing (gone from the spool files: deleted or truncated).',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });

  readonly deadLetterOverflow = new Counter({
    name: 'otel_audit_dead_letter_overflow_records_total',
    help: 'Invalid records answered as rejected but not kept in the dead-letter store, because it reached its max_size.',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });

  readonly retrievalRecords = new Counter({
    name: 'otel_audit_retrieval_records_total',
    help: 'Records the SAP Audit Log Retrieval receivers got, by outcome: imported (durably in the spool) or duplicate (already imported: in the overlap or a page fetched again).',
    labelNames: ['receiver', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly retrievalPages = new Counter({
    name: 'otel_audit_retrieval_pages_total',
    help: 'Pages (up to 500 records each) the SAP Audit Log Retrieval receivers read.',
    labelNames: ['receiver'] as const,
    registers: [this.registry],
  });

  readonly retrievalRequests = new Counter({
    name: 'otel_audit_retrieval_requests_total',
    help: 'Requests to the SAP Audit Log Retrieval API, by receiver and HTTP status.',
    labelNames: ['receiver', 'status'] as const,
    registers: [this.registry],
  });

  readonly retrievalThrottled = new Counter({
    name: 'otel_audit_retrieval_throttled_total',
    help: 'HTTP 429 answers of the SAP Audit Log Retrieval API (the request is sent again after a pause).',
    labelNames: ['receiver'] as const,
    registers: [this.registry],
  });

  /** End of each retrieval receiver's last complete window (epoch ms), read by the lag gauge. */
  private readonly retrievalCheckpoints = new Map<string, number>();

  /** A retrieval receiver's checkpoint moved to `windowEnd` (epoch ms). */
  retrievalCheckpoint(receiver: string, windowEnd: number): void {
    this.retrievalCheckpoints.set(receiver, windowEnd);
  }

  /** Requests refused for want of intake memory (see `MemoryBudget`). */
  readonly receiverMemoryRefusals = new Counter({
    name: 'otel_audit_receiver_memory_refusals_total',
    help: 'OTLP requests refused because the intake memory budget was in use (reason busy: 429 / RESOURCE_EXHAUSTED with a retry delay) or because one request alone would need more than the budget (reason too_large: 413 / RESOURCE_EXHAUSTED).',
    labelNames: ['receiver', 'protocol', 'reason'] as const,
    registers: [this.registry],
  });

  private intakeMemory: (() => { limit: number; inUse: number }) | undefined;

  /** What the intake memory gauges read. */
  observeIntakeMemory(source: () => { limit: number; inUse: number }): void {
    this.intakeMemory = source;
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'otel_audit_' });
    this.retrievalLagGauge();
    this.intakeMemoryGauges();
    const sources = () => this.sources;
    new Gauge({
      name: 'otel_audit_spool_bytes',
      help: 'Bytes of spool segment files on disk.',
      registers: [this.registry],
      collect() {
        const s = sources();
        if (s) this.set(s.spool().bytes);
      },
    });
    new Gauge({
      name: 'otel_audit_spool_max_bytes',
      help: 'Configured spool size limit; at it the receivers answer 429 / RESOURCE_EXHAUSTED.',
      registers: [this.registry],
      collect() {
        const s = sources();
        if (s) this.set(s.spool().maxBytes);
      },
    });
    new Gauge({
      name: 'otel_audit_dead_letter_bytes',
      help: 'Bytes in the dead-letter files.',
      registers: [this.registry],
      collect() {
        const s = sources()?.storage?.();
        if (s) this.set(s.deadLetterBytes);
      },
    });
    new Gauge({
      name: 'otel_audit_dead_letter_max_bytes',
      help: 'Configured deadletter.max_size; past it invalid records are no longer kept (exporter dead letters still are).',
      registers: [this.registry],
      collect() {
        const s = sources()?.storage?.();
        if (s) this.set(Number.isFinite(s.deadLetterMaxBytes) ? s.deadLetterMaxBytes : -1);
      },
    });
    new Gauge({
      name: 'otel_audit_storage_volume_full',
      help: '1 while the spool refuses records because its volume has no space (or inodes) left, else 0.',
      registers: [this.registry],
      collect() {
        const s = sources()?.storage?.();
        if (s) this.set(s.volumeFull ? 1 : 0);
      },
    });
    new Gauge({
      name: 'otel_audit_exporter_queue_records',
      help: 'Records in the spool not yet delivered (or dead-lettered) by each exporter.',
      labelNames: ['exporter'] as const,
      registers: [this.registry],
      collect() {
        for (const e of sources()?.exporters() ?? []) this.set({ exporter: e.id }, e.backlog.records);
      },
    });
    new Gauge({
      name: 'otel_audit_exporter_queue_bytes',
      help: 'Spool bytes not yet delivered (or dead-lettered) by each exporter.',
      labelNames: ['exporter'] as const,
      registers: [this.registry],
      collect() {
        for (const e of sources()?.exporters() ?? []) this.set({ exporter: e.id }, e.backlog.bytes);
      },
    });
    new Gauge({
      name: 'otel_audit_exporter_oldest_undelivered_age_seconds',
      help: 'Age (since it was received) of the oldest record an exporter has not delivered yet; 0 when caught up.',
      labelNames: ['exporter'] as const,
      registers: [this.registry],
      collect() {
        const now = Date.now();
        for (const e of sources()?.exporters() ?? []) {
          this.set({ exporter: e.id }, e.oldestPending === undefined ? 0 : Math.max(0, (now - e.oldestPending) / 1000));
        }
      },
    });
    new Gauge({
      name: 'otel_audit_exporter_failing',
      help: "1 while an exporter's deliveries are failing and being retried, else 0.",
      labelNames: ['exporter'] as const,
      registers: [this.registry],
      collect() {
        for (const e of sources()?.exporters() ?? []) this.set({ exporter: e.id }, e.failing ? 1 : 0);
      },
    });
  }

  private intakeMemoryGauges(): void {
    const source = () => this.intakeMemory?.();
    new Gauge({
      name: 'otel_audit_receiver_memory_budget_bytes',
      help: 'The intake memory budget: what all receivers together may hold for requests in flight (service.intake_memory_budget).',
      registers: [this.registry],
      collect() {
        const m = source();
        if (m) this.set(m.limit);
      },
    });
    new Gauge({
      name: 'otel_audit_receiver_memory_in_use_bytes',
      help: 'Intake memory held by the requests in flight (bodies, decompressed bodies and the estimated cost of decoding and storing them).',
      registers: [this.registry],
      collect() {
        const m = source();
        if (m) this.set(m.inUse);
      },
    });
  }

  private retrievalLagGauge(): void {
    const checkpoints = this.retrievalCheckpoints;
    new Gauge({
      name: 'otel_audit_retrieval_lag_seconds',
      help: 'How far each SAP Audit Log Retrieval receiver is behind: now minus the end of its last complete window (ingest_delay at best).',
      labelNames: ['receiver'] as const,
      registers: [this.registry],
      collect() {
        const now = Date.now();
        for (const [receiver, end] of checkpoints) this.set({ receiver }, Math.max(0, (now - end) / 1000));
      },
    });
  }

  observe(sources: MetricSources): void {
    this.sources = sources;
  }
}
