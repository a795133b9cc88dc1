import { auditEventType, type AuditEventName, type AuditEventType } from '@otel-audit/semconv';
import type { AuditRecord, SplunkMetadata } from './audit-record.js';
import {
  localRecordJson,
  retrievedRecordJson,
  SYSTEM_ID_ATTRIBUTE,
  type LocalRecord,
  type RetrievedRecord,
} from './local-record.js';

/**
 * What the spool records of a record retrieved from SAP in place of an event name: SAP gives a
 * category (in the local record), never one of our event names, and does not tell a modification
 * from a deletion. Such records are exported to files and Splunk, never back to SAP.
 */
export const RETRIEVED_EVENT_NAME = 'sap.auditlog.retrieved';

/** The kind of a spooled record: one of our audit event names, or {@link RETRIEVED_EVENT_NAME}. */
export type SpoolEventName = AuditEventName | typeof RETRIEVED_EVENT_NAME;

/**
 * A record as exporters receive it from the spool: the local record as JSON text, written as is by
 * the file exporter and wrapped by Splunk, plus what exporters route on.
 */
export interface SpooledRecord {
  /** Position in the spool (increasing in arrival order). */
  readonly seq: number;
  readonly uuid: string;
  readonly eventName: SpoolEventName;
  /** Event time, epoch milliseconds. */
  readonly eventTime: number;
  /** When the sidecar accepted the record, epoch milliseconds. */
  readonly receivedAt: number;
  readonly tenantSubdomain: string | undefined;
  /** For retrieved records `source` is the system id: the Splunk exporter uses it when its config sets none. */
  readonly splunk: SplunkMetadata;
  /** Set on replayed dead letters: only these exporters deliver the record. */
  readonly targets: readonly string[] | undefined;
  /** The local record JSON, without a trailing newline. */
  readonly json: string;
  /** The same JSON as UTF-8 bytes (a view into the spool's buffer: no copy). */
  readonly jsonBytes: Buffer;
}

/**
 * What goes into the spool: a record's fields besides its position, with its JSON as text or, when
 * the pipeline wrote it as bytes itself (the protobuf fast path), as UTF-8 bytes.
 */
export type SpoolInput = Omit<SpoolTextInput, 'json'> & { readonly json: string | Buffer };

/** A {@link SpoolInput} with its JSON as text. */
export type SpoolTextInput = Omit<SpooledRecord, 'seq' | 'jsonBytes'>;

export function spoolInputOf(record: AuditRecord, receivedAt: number, targets?: readonly string[]): SpoolTextInput {
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

/**
 * A record retrieved from SAP into spool form. Its Splunk `source` is the system id, so that
 * exporters (and the retrieval receiver, after a crash) can tell the records of each system apart.
 */
export function spoolInputOfRetrieved(record: RetrievedRecord, eventTime: number, receivedAt: number): SpoolTextInput {
  return {
    uuid: record.message_uuid,
    eventName: RETRIEVED_EVENT_NAME,
    eventTime,
    receivedAt,
    tenantSubdomain: undefined,
    splunk: { source: record.resource[SYSTEM_ID_ATTRIBUTE] },
    targets: undefined,
    json: retrievedRecordJson(record),
  };
}

/** The SAP message type of a spooled record; undefined for records retrieved from SAP. */
export function eventTypeOf(r: SpooledRecord): AuditEventType | undefined {
  return r.eventName === RETRIEVED_EVENT_NAME ? undefined : auditEventType(r.eventName);
}

export function parseLocalRecord(r: SpooledRecord): LocalRecord {
  return JSON.parse(r.json) as LocalRecord;
}
