export { createAuditClient, type AuditClient, type AuditClientOptions, type FailedEvent } from './client.js';
export type { ExporterOptions, OtlpProtocol } from './config.js';
export { AuditLogError, AuditValidationError, AuditDeliveryError, AuditDeliveryUnconfirmedError } from './errors.js';
export { AuditEvent, type AuditEventOptions, type CustomDetailValue } from './events/audit-event.js';
export {
  SecurityEvent,
  DataAccessEvent,
  DataModificationEvent,
  DataDeletionEvent,
  ConfigurationChangeEvent,
  ConfigurationDeletionEvent,
  type SecurityEventOptions,
  type PersonalDataOptions,
  type DataAccessEventOptions,
  type DataModificationEventOptions,
  type DataDeletionEventOptions,
  type ConfigurationEventOptions,
  type ConfigurationChangeEventOptions,
  type ConfigurationDeletionEventOptions,
} from './events/events.js';
export {
  SecurityEventAttribute,
  DataAccessAttribute,
  ChangeAttribute,
  DeletedAttribute,
  type Attachment,
} from './events/attributes.js';
export { Tenant, AuditEventName } from '@otel-audit/semconv';
