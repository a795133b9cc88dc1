export {
  AuditEventName,
  AUDIT_EVENT_PREFIX,
  ATTR_EVENT_NAME,
  Attr,
  AttributeSuffix,
  StructuredAttr,
  SplunkAttr,
  Tenant,
  USER_FROM_TOKEN,
  type TenantPlaceholder,
} from './names.js';
export {
  AUDIT_EVENT_TYPES,
  auditEventType,
  type AuditEventType,
  type AuditEventKind,
  type EventKindRules,
  type OptionalKeyUse,
  type SapCategory,
  type SapEndpoint,
  type SapMessageByKind,
} from './event-types.js';
export {
  KeyValueList,
  anyValueToJson,
  anyValueTypeName,
  keyValuesToJson,
  setOwn,
  type AnyValue,
  type KeyValue,
  type JsonValue,
} from './any-value.js';
export {
  formatSapTime,
  type IdMap,
  type SapObject,
  type SapDataSubject,
  type SapMessage,
  type SapAttachment,
  type SapChangeAttribute,
  type SapDataAccessAttribute,
  type SapSecurityAttribute,
  type SapSecurityEventMessage,
  type SapDataAccessMessage,
  type SapDataModificationMessage,
  type SapConfigurationChangeMessage,
} from './sap-message.js';
export {
  mapAuditRecord,
  formatIssues,
  isUuid,
  isSubdomain,
  type AuditRecordInput,
  type AuditMappingResult,
  type MappedAuditRecord,
  type RejectedAuditRecord,
  type ValidationIssue,
} from './map-record.js';
export {
  formatRejectionMessage,
  parseRejectionMessage,
  MAX_REJECTION_MESSAGE_LENGTH,
  type RecordRejection,
  type RejectionSummary,
  type ParsedRejection,
  type ParsedRejectionMessage,
} from './protocol/rejections.js';
export {
  ngRecord,
  flattenId,
  uuidV5,
  NG_PROTO_PACKAGE,
  NG_NOT_PROVIDED,
  NG_NOT_SPECIFIED,
  type NgEvent,
  type NgJsonType,
  type NgMessageName,
  type NgRecord,
  type NgRules,
} from './ng-event.js';
export { MALFORMED_TEXT, isWellFormedText, malformedTextField } from './text.js';
export { MAX_QUOTED_LENGTH, capText, quote } from './issues.js';
export { parseRetryAfter, parseHttpDate, MAX_RETRY_AFTER_MS } from './protocol/retry-after.js';
