import type { AuditEventName, JsonValue, SapCategory, SapEndpoint, SapMessage } from '@otel-audit/semconv';

/** Splunk HEC metadata a record carries (`com.splunk.*`, `host.name`), record attributes over resource. */
export interface SplunkMetadata {
  source?: string;
  sourcetype?: string;
  index?: string;
  host?: string;
}

/** A validated audit record, mapped to its SAP message: what the pipeline hands to exporters. */
export interface AuditRecord {
  readonly uuid: string;
  readonly eventName: AuditEventName;
  readonly category: SapCategory;
  readonly sapEndpoint: SapEndpoint;
  readonly time: string;
  readonly success: boolean | undefined;
  readonly message: SapMessage;
  readonly resource: Readonly<Record<string, JsonValue>>;
  readonly tenantSubdomain: string | undefined;
  readonly splunk: SplunkMetadata;
}

/** The local record (CONTRACT §6): what the file exporter writes and Splunk receives as `event`. */
export interface LocalRecord {
  message_uuid: string;
  time: string;
  category: SapCategory;
  tenant: string;
  user: string;
  format_version: '2';
  success?: boolean;
  message: SapMessage;
  resource: Readonly<Record<string, JsonValue>>;
}

export function toLocalRecord(r: AuditRecord): LocalRecord {
  const out: LocalRecord = {
    message_uuid: r.uuid,
    time: r.time,
    category: r.category,
    tenant: r.message.tenant,
    user: r.message.user,
    format_version: '2',
  } as LocalRecord;
  if (r.success !== undefined) out.success = r.success;
  out.message = r.message;
  out.resource = r.resource;
  return out;
}
