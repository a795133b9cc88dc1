import type { AuditEventName, JsonValue, SapCategory, SapEndpoint, SapMessage } from '@otel-audit/semconv';

/** Splunk HEC metadata a record carries (`com.splunk.*`, `host.name`), record attributes over resource. */
export interface SplunkMetadata {
  source?: string;
  sourcetype?: string;
  index?: string;
  host?: string;
}

/** A validated audit record, mapped to its SAP message: what the pipeline puts into the spool. */
export interface AuditRecord {
  readonly uuid: string;
  readonly eventName: AuditEventName;
  readonly category: SapCategory;
  readonly sapEndpoint: SapEndpoint;
  /** Event time as SAP wants it (ISO-8601, milliseconds, Z) and as epoch milliseconds. */
  readonly time: string;
  readonly timeMs: number;
  readonly success: boolean | undefined;
  readonly message: SapMessage;
  /** The resource attributes as a JSON object text (shared by every record of a resource). */
  readonly resourceJson: string;
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
  resource: Record<string, JsonValue>;
}

/**
 * The local record as JSON text, in the field order of CONTRACT §6. Built by concatenation so the
 * resource part, the same for a whole request, is serialized once instead of once per record.
 */
export function localRecordJson(r: AuditRecord): string {
  const success = r.success === undefined ? '' : `,"success":${r.success}`;
  return (
    `{"message_uuid":${JSON.stringify(r.uuid)},"time":"${r.time}","category":"${r.category}",` +
    `"tenant":${JSON.stringify(r.message.tenant)},"user":${JSON.stringify(r.message.user)},"format_version":"2"` +
    `${success},"message":${JSON.stringify(r.message)},"resource":${r.resourceJson}}`
  );
}
