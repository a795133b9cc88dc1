import type { AuditEventName, SapCategory, SapEndpoint, SapMessage } from '@otel-audit/semconv';

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
