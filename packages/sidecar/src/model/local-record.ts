import type { JsonValue, SapCategory, SapMessage } from '@otel-audit/semconv';
import type { AuditRecord } from './audit-record.js';

/**
 * The local record: what the file exporter writes and Splunk receives as `event`, shaped like a
 * record of SAP's Retrieval API (docs/semantic-conventions.md, "The local record").
 */
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
 * The local record as JSON text, in its documented field order. Built by concatenation so the
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

/** The resource attribute that names the SAP system (subaccount) a retrieved record came from. */
export const SYSTEM_ID_ATTRIBUTE = 'sap.auditlog.system_id';

/**
 * A record retrieved from SAP's Retrieval API, as a local record: the API's fields (the message
 * always an object), `success` copied from the message where it has one, and the resource naming
 * the SAP system it came from. SAP's categories are kept as they come (`audit.data-modification`
 * covers deletions too: SAP does not tell them apart).
 */
export interface RetrievedRecord {
  message_uuid: string;
  time: string;
  category: string;
  tenant: string;
  user: string;
  format_version: string;
  org_id?: string;
  space_id?: string;
  app_or_service_id?: string;
  als_service_id?: string;
  success?: boolean;
  message: Record<string, JsonValue>;
  resource: { [SYSTEM_ID_ATTRIBUTE]: string };
}

/**
 * The JSON text of a retrieved record, keys in the order of {@link RetrievedRecord}: the fields
 * before `message` are strings and booleans, as in our own local records, so the Splunk exporter's
 * shortcut of reading only the head of a record works for both.
 */
export function retrievedRecordJson(r: RetrievedRecord): string {
  return JSON.stringify({
    message_uuid: r.message_uuid,
    time: r.time,
    category: r.category,
    tenant: r.tenant,
    user: r.user,
    format_version: r.format_version,
    org_id: r.org_id,
    space_id: r.space_id,
    app_or_service_id: r.app_or_service_id,
    als_service_id: r.als_service_id,
    success: r.success,
    message: r.message,
    resource: r.resource,
  });
}
