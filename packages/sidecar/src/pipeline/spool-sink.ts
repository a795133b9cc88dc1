import type { Spool } from '../spool/spool.js';
import { spoolInputOf } from '../spool/spooled-record.js';
import type { AuditRecord } from './audit-record.js';
import type { RecordSink } from './pipeline.js';

/** The pipeline's sink: accepted records go into the durable spool, from where each exporter reads them. */
export class SpoolSink implements RecordSink {
  constructor(private readonly spool: Spool) {}

  write(records: readonly AuditRecord[]): Promise<void> {
    const receivedAt = Date.now();
    return this.spool.append(records.map((r) => spoolInputOf(r, receivedAt)));
  }
}
