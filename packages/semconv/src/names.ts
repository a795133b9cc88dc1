/** Event names (OTel `EventName`) of the six audit event types. */
export const AuditEventName = {
  SecurityEvent: 'audit.security_event',
  DataAccess: 'audit.data_access',
  DataModification: 'audit.data_modification',
  DataDeletion: 'audit.data_deletion',
  ConfigurationChange: 'audit.configuration_change',
  ConfigurationDeletion: 'audit.configuration_deletion',
} as const;
export type AuditEventName = (typeof AuditEventName)[keyof typeof AuditEventName];

/** Prefix shared by every audit event name; records without it are not audit events. */
export const AUDIT_EVENT_PREFIX = 'audit.';

/** Legacy attribute that older SDKs use instead of the `EventName` field. */
export const ATTR_EVENT_NAME = 'event.name';

/** Attribute keys of the portable (flattened) form. */
export const Attr = {
  RecordUid: 'log.record.uid',
  UserId: 'user.id',
  Tenant: 'audit.tenant',
  TenantSubdomain: 'audit.tenant.subdomain',
  Success: 'audit.success',
  ClientAddress: 'client.address',
  IdentityProvider: 'audit.identity_provider',
  Channel: 'audit.channel',
  MessageId: 'audit.message.id',
  ObjectType: 'audit.object.type',
  ObjectIdPrefix: 'audit.object.id.',
  DataSubjectType: 'audit.data_subject.type',
  DataSubjectRole: 'audit.data_subject.role',
  DataSubjectIdPrefix: 'audit.data_subject.id.',
  AttributeNames: 'audit.attribute.names',
  AttributePrefix: 'audit.attribute.',
  AttachmentIds: 'audit.attachment.ids',
  AttachmentNames: 'audit.attachment.names',
  CustomPrefix: 'audit.custom.',
} as const;

/** Suffixes of `audit.attribute.<name>.<suffix>`. */
export const AttributeSuffix = {
  Old: 'old',
  New: 'new',
  Successful: 'successful',
  Value: 'value',
} as const;
export type AttributeSuffix = (typeof AttributeSuffix)[keyof typeof AttributeSuffix];

/** Attribute keys of the structured form (OTel AnyValue kvlist / array values). */
export const StructuredAttr = {
  ObjectId: 'audit.object.id',
  DataSubjectId: 'audit.data_subject.id',
  DataSubjects: 'audit.data_subjects',
  Attributes: 'audit.attributes',
  CustomDetails: 'audit.custom_details',
} as const;

/** Resource/record attributes that carry Splunk metadata (never part of the SAP body). */
export const SplunkAttr = {
  Source: 'com.splunk.source',
  Sourcetype: 'com.splunk.sourcetype',
  Index: 'com.splunk.index',
  Host: 'host.name',
} as const;

/** Tenant placeholders understood by the SAP Audit Log Service. */
export const Tenant = {
  PROVIDER: '$PROVIDER',
  SUBSCRIBER: '$SUBSCRIBER',
} as const;
export type TenantPlaceholder = (typeof Tenant)[keyof typeof Tenant];

/** User placeholder: the service takes the user from the token. */
export const USER_FROM_TOKEN = '$USER';
