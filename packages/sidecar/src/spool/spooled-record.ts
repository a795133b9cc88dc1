import { auditEventType, type AuditEventName, type AuditEventType } from '@otel-audit/semconv';
import type { AuditRecord, LocalRecord, SplunkMetadata } from '../pipeline/audit-record.js';
import { toLocalRecord } from '../pipeline/audit-record.js';

/**
 * A record as exporters receive it from the spool: the local record (CONTRACT §6) as JSON text,
 * written as is by the file exporter and wrapped by Splunk, plus what exporters route on.
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
}

/** The SAP message type of a spooled record. */
export function eventTypeOf(r: SpooledRecord): AuditEventType {
  return auditEventType(r.eventName)!;
}

export function parseLocalRecord(r: SpooledRecord): LocalRecord {
  return JSON.parse(r.json) as LocalRecord;
}

interface Meta {
  u: string;
  e: AuditEventName;
  t: number;
  r: number;
  d?: string;
  k?: SplunkMetadata;
  x?: readonly string[];
}

/** Fields a spooled record carries besides its position. */
export type SpoolInput = Omit<SpooledRecord, 'seq'>;

export function spoolInputOf(record: AuditRecord, receivedAt: number, targets?: readonly string[]): SpoolInput {
  return {
    uuid: record.uuid,
    eventName: record.eventName,
    eventTime: Date.parse(record.time),
    receivedAt,
    tenantSubdomain: record.tenantSubdomain,
    splunk: record.splunk,
    targets,
    json: JSON.stringify(toLocalRecord(record)),
  };
}

/** Payload bytes of an entry: u16 meta length, meta JSON, local record JSON. */
export function encodePayload(r: SpoolInput): Buffer {
  const meta: Meta = { u: r.uuid, e: r.eventName, t: r.eventTime, r: r.receivedAt };
  if (r.tenantSubdomain !== undefined) meta.d = r.tenantSubdomain;
  if (Object.keys(r.splunk).length > 0) meta.k = r.splunk;
  if (r.targets !== undefined) meta.x = r.targets;
  const metaJson = JSON.stringify(meta);
  const metaLen = Buffer.byteLength(metaJson);
  const buf = Buffer.allocUnsafe(2 + metaLen + Buffer.byteLength(r.json));
  buf.writeUInt16LE(metaLen, 0);
  buf.write(metaJson, 2, 'utf8');
  buf.write(r.json, 2 + metaLen, 'utf8');
  return buf;
}

export function decodePayload(seq: number, payload: Buffer): SpooledRecord {
  const metaLen = payload.readUInt16LE(0);
  const meta = JSON.parse(payload.toString('utf8', 2, 2 + metaLen)) as Meta;
  return {
    seq,
    uuid: meta.u,
    eventName: meta.e,
    eventTime: meta.t,
    receivedAt: meta.r,
    tenantSubdomain: meta.d,
    splunk: meta.k ?? {},
    targets: meta.x,
    json: payload.toString('utf8', 2 + metaLen),
  };
}
