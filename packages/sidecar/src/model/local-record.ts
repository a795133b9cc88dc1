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
