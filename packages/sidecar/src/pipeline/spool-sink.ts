import type { AuditRecord } from '../model/audit-record.js';
import { spoolInputOf, type SpoolInput } from '../model/spooled-record.js';
import type { RecordSink } from './pipeline.js';

/** Durable storage that takes records for the exporters (the spool): resolves once they are fsynced. */
export interface RecordStore {
  append(inputs: readonly SpoolInput[]): Promise<void>;
}

/** The pipeline's sink: accepted records go into the durable spool, from where each exporter reads them. */
export class SpoolSink implements RecordSink {
  constructor(private readonly store: RecordStore) {}

  write(records: readonly AuditRecord[]): Promise<void> {
    const receivedAt = Date.now();
    return this.store.append(records.map((r) => spoolInputOf(r, receivedAt)));
  }
}
