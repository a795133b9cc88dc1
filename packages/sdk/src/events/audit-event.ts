import { randomUUID } from 'node:crypto';
import type { LogAttributes, LogRecord } from '@opentelemetry/api-logs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  Attr,
  StructuredAttr,
  Tenant,
  formatSapTime,
  mapAuditRecord,
  KeyValueList,
  type AnyValue,
  type AuditEventName,
  type KeyValue,
  type MappedAuditRecord,
} from '@otel-audit/semconv';
import { AuditValidationError } from '../errors.js';
import { toSdkIssues } from './fields.js';

export type CustomDetailValue =
  string | number | boolean | null | CustomDetailValue[] | { [key: string]: CustomDetailValue };

/** Fields every audit event has. */
export interface AuditEventOptions {
  /** Message id (UUID); a random UUID v4 by default. Resending with the same id lets SAP and Splunk deduplicate. */
  uuid?: string;
  /** Acting user; `$USER` (the user of the token) by default. */
  user?: string;
  /** `Tenant.PROVIDER` (default), `Tenant.SUBSCRIBER`, or a zone id. */
  tenant?: string;
  /** Subscriber subdomain: the sidecar fetches that subscriber's token for the SAP Audit Log Service. */
  tenantSubdomain?: string;
  /** When the event happened; now by default. */
  time?: Date | number;
  /** Free-form details (SAP `customDetails`). */
  customDetails?: Record<string, CustomDetailValue>;
}

/** Base of the six event types: holds the common fields and turns an event into an OTel log record. */
export abstract class AuditEvent {
  abstract readonly eventName: AuditEventName;
  readonly uuid: string;
  readonly user: string | undefined;
  readonly tenant: string;
  readonly tenantSubdomain: string | undefined;
  readonly time: Date;
  readonly customDetails: Readonly<Record<string, CustomDetailValue>> | undefined;

  protected constructor(options: AuditEventOptions) {
    this.uuid = options.uuid ?? randomUUID();
    this.user = options.user;
    this.tenant = options.tenant ?? Tenant.PROVIDER;
    this.tenantSubdomain = options.tenantSubdomain;
    this.time = options.time === undefined ? new Date() : new Date(options.time);
    this.customDetails = options.customDetails;
  }

  /** Adds the type's own attributes (portable flattened form). */
  protected abstract addAttributes(attributes: LogAttributes): void;

  /** The record body; SAP `data` for security events. */
  protected body(): string | undefined {
    return undefined;
  }

  /** Names of the event's attributes in order (for naming fields in errors). */
  protected attributeNames(): readonly string[] {
    return [];
  }

  /** The attributes of the log record, in the portable form any OTLP receiver can read. */
  toAttributes(): LogAttributes {
    const a: LogAttributes = { [Attr.RecordUid]: this.uuid };
    if (this.user !== undefined) a[Attr.UserId] = this.user;
    a[Attr.Tenant] = this.tenant;
    if (this.tenantSubdomain !== undefined) a[Attr.TenantSubdomain] = this.tenantSubdomain;
    this.addAttributes(a);
    const custom = this.customDetails;
    if (custom !== undefined) {
      if (Object.values(custom).every((v) => typeof v === 'string')) {
        for (const [k, v] of Object.entries(custom)) a[Attr.CustomPrefix + k] = v;
      } else {
        // Nested or non-string details need the structured (kvlist) form.
        a[StructuredAttr.CustomDetails] = custom;
      }
    }
    return a;
  }

  /** The OTel log record for this event. */
  toLogRecord(): LogRecord {
    const body = this.body();
    return {
      eventName: this.eventName,
      timestamp: this.time,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      ...(body === undefined ? {} : { body }),
      attributes: this.toAttributes(),
    };
  }

  /** Checks the event against the SAP Audit Log Service rules; throws {@link AuditValidationError}. */
  validate(): void {
    this.toSapMessage();
  }

  /** The exact SAP v2 message the sidecar will send for this event; throws {@link AuditValidationError}. */
  toSapMessage(): MappedAuditRecord['message'] {
    const time = this.time.getTime();
    if (Number.isNaN(time)) throw new AuditValidationError([{ field: 'time', message: 'is not a valid date' }]);
    const result = mapAuditRecord({
      eventName: this.eventName,
      body: this.body() ?? null,
      time: formatSapTime(time),
      attributes: toKeyValues(this.toAttributes()),
    });
    if (!result.ok) throw new AuditValidationError(toSdkIssues(result.issues, this.attributeNames()));
    return result.message;
  }
}

/** OTel JS attribute values → the AnyValue model semconv validates (as an OTLP receiver would see them). */
function toAnyValue(v: unknown): AnyValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isInteger(v) ? BigInt(v) : v;
    case 'object':
      if (v instanceof Uint8Array) return v;
      if (Array.isArray(v)) return v.map(toAnyValue);
      return new KeyValueList(toKeyValues(v as Record<string, unknown>));
    default:
      return null;
  }
}

function toKeyValues(attributes: Readonly<Record<string, unknown>>): KeyValue[] {
  return Object.entries(attributes)
    .filter(([, v]) => v !== undefined)
    .map(([key, value]) => ({ key, value: toAnyValue(value) }));
}
