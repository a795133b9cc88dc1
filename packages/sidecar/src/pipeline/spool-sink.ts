import type { AuditRecord } from '../model/audit-record.js';
import type { RetrievedRecord } from '../model/local-record.js';
import { spoolInputOf, spoolInputOfRetrieved, type SpoolInput } from '../model/spooled-record.js';
import type { RecordSink } from './pipeline.js';
import type { SpoolInputSink } from './proto-pipeline.js';

/** Durable storage that takes records for the exporters (the spool): resolves once they are fsynced. */
export interface RecordStore {
  append(inputs: readonly SpoolInput[]): Promise<void>;
}

/** The pipeline's sink: accepted records go into the durable spool, from where each exporter reads them. */
export class SpoolSink implements RecordSink, SpoolInputSink {
  constructor(private readonly store: RecordStore) {}

  write(records: readonly AuditRecord[]): Promise<void> {
    const receivedAt = Date.now();
    return this.store.append(records.map((r) => spoolInputOf(r, receivedAt)));
  }

  /** Records the protobuf path has put into spool form itself. */
  writeInputs(inputs: readonly SpoolInput[]): Promise<void> {
    return this.store.append(inputs);
  }

  /**
   * The pipeline's entry for records that are local records already (retrieved from SAP): they go
   * into the spool as they are, without validation or mapping.
   */
  writeLocal(records: readonly RetrievedRecord[]): Promise<void> {
    const receivedAt = Date.now();
    return this.store.append(
      records.map((r) => {
        const time = Date.parse(r.time);
        return spoolInputOfRetrieved(r, Number.isNaN(time) ? receivedAt : time, receivedAt);
      }),
    );
  }
}
