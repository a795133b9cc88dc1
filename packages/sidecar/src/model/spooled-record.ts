import { auditEventType, type AuditEventName, type AuditEventType } from '@otel-audit/semconv';
import type { AuditRecord, SplunkMetadata } from './audit-record.js';
import { localRecordJson, type LocalRecord } from './local-record.js';

/**
 * A record as exporters receive it from the spool: the local record as JSON text, written as is by
 * the file exporter and wrapped by Splunk, plus what exporters route on.
 */
export interface SpooledRecord {
  /** Position in the spool (increasing in arrival order). */
  readonly seq: number;
  readonly uuid: string;
  readonly eventName: AuditEventName;
  /** Event time, epoch milliseconds. */
  readonly eventTime: number;
  /** When the sidecar accepted the record, epoch milliseconds. */
  readonly receivedAt: number;
  readonly tenantSubdomain: string | undefined;
  readonly splunk: SplunkMetadata;
  /** Set on replayed dead letters: only these exporters deliver the record. */
  readonly targets: readonly string[] | undefined;
  /** The local record JSON, without a trailing newline. */
  readonly json: string;
  /** The same JSON as UTF-8 bytes (a view into the spool's buffer: no copy). */
  readonly jsonBytes: Buffer;
}

/** What goes into the spool: a record's fields besides its position, with its JSON as text. */
export type SpoolInput = Omit<SpooledRecord, 'seq' | 'jsonBytes'>;

export function spoolInputOf(record: AuditRecord, receivedAt: number, targets?: readonly string[]): SpoolInput {
  return {
    uuid: record.uuid,
    eventName: record.eventName,
    eventTime: record.timeMs,
    receivedAt,
    tenantSubdomain: record.tenantSubdomain,
    splunk: record.splunk,
    targets,
    json: localRecordJson(record),
  };
}

/** The SAP message type of a spooled record. */
export function eventTypeOf(r: SpooledRecord): AuditEventType {
  return auditEventType(r.eventName)!;
}

export function parseLocalRecord(r: SpooledRecord): LocalRecord {
  return JSON.parse(r.json) as LocalRecord;
}
