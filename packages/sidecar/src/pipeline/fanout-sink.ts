import type { Exporter } from '../component.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { AuditRecord } from './audit-record.js';
import type { RecordSink } from './pipeline.js';

/**
 * Hands each batch to every exporter and resolves when all have taken it, so the receiver's
 * success means "written by every exporter". Any failure fails the batch (the client retries).
 */
export class FanoutSink implements RecordSink {
  constructor(
    private readonly exporters: readonly Exporter[],
    private readonly metrics: Metrics,
  ) {}

  async write(records: readonly AuditRecord[]): Promise<void> {
    await Promise.all(
      this.exporters.map(async (exporter) => {
        const outcome = await exporter.export(records);
        const failed = (outcome.rejected?.length ?? 0) + (outcome.retry?.indexes.length ?? 0);
        if (failed > 0) {
          throw new Error(`exporter ${exporter.id} did not take ${failed} of ${records.length} records`);
        }
        this.metrics.exporterRecords.inc({ exporter: exporter.id, outcome: 'exported' }, records.length);
      }),
    );
  }
}
