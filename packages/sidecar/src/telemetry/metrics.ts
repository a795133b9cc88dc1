import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric otel-audit exposes on `/metrics` (documented in docs/operations.md). */
export class Metrics {
  readonly registry = new Registry();

  readonly receiverRequests = new Counter({
    name: 'otel_audit_receiver_requests_total',
    help: 'OTLP export requests handled, by receiver, protocol and response status.',
    labelNames: ['receiver', 'protocol', 'status'] as const,
    registers: [this.registry],
  });

  readonly receiverRecords = new Counter({
    name: 'otel_audit_receiver_records_total',
    help: 'Log records received, by outcome: accepted (durably stored), rejected (failed validation, dead-lettered) or ignored (not an audit event).',
    labelNames: ['receiver', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly exporterRecords = new Counter({
    name: 'otel_audit_exporter_records_total',
    help: 'Records handled by each exporter, by outcome: exported, retried or dead_lettered.',
    labelNames: ['exporter', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'otel_audit_' });
  }
}
