import type { AuditRecord } from '../model/audit-record.js';
import type { RetrievedRecord } from '../model/local-record.js';
import { spoolInputOf, spoolInputOfRetrieved, type SpoolInput } from '../model/spooled-record.js';
import type { RecordSink } from './pipeline.js';
import type { SpoolInputSink } from './proto-pipeline.js';

/** Durable storage that takes records for the exporters (the spool): resolves once they are fsynced. */
export interface RecordStore {
  append(inputs: readonly SpoolInput[]): Promise<void>;
}

/**
 * Records stored just before the start (see spool/tail-uuids.ts): a sender that got no answer for
 * them before a crash sends them again, and they are not stored a second time.
 */
export interface StoredBeforeStart {
  readonly uuids: ReadonlySet<string>;
  /** Epoch ms after which it is no longer consulted (resends come within seconds). */
  readonly until: number;
  /** Told how many records of a request were not stored again. */
  readonly onDuplicates?: (records: number) => void;
}

/** The pipeline's sink: accepted records go into the durable spool, from where each exporter reads them. */
export class SpoolSink implements RecordSink, SpoolInputSink {
  constructor(
    private readonly store: RecordStore,
    private readonly storedBefore?: StoredBeforeStart,
  ) {}

  write(records: readonly AuditRecord[]): Promise<void> {
    const receivedAt = Date.now();
    return this.writeInputs(records.map((r) => spoolInputOf(r, receivedAt)));
  }

  /** Records in spool form (the protobuf path puts them into it itself). */
  writeInputs(inputs: readonly SpoolInput[]): Promise<void> {
    const before = this.storedBefore;
    if (before !== undefined && Date.now() < before.until && inputs.some((r) => before.uuids.has(r.uuid))) {
      const fresh = inputs.filter((r) => !before.uuids.has(r.uuid));
      before.onDuplicates?.(inputs.length - fresh.length);
      if (fresh.length === 0) return Promise.resolve();
      inputs = fresh;
    }
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
