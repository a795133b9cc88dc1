import { AuditEventName } from './names.js';

export type SapEndpoint = 'security-events' | 'data-accesses' | 'data-modifications' | 'configuration-changes';

export type SapCategory =
  'audit.security-events' | 'audit.data-access' | 'audit.data-modification' | 'audit.configuration';

export type AuditEventKind =
  | 'security'
  | 'data-access'
  | 'data-modification'
  | 'data-deletion'
  | 'configuration-change'
  | 'configuration-deletion';

export interface AuditEventType {
  readonly name: AuditEventName;
  readonly kind: AuditEventKind;
  /** Last path segment of the SAP write API v2 (`/audit-log/oauth2/v2/<endpoint>`). */
  readonly sapEndpoint: SapEndpoint;
  /** `category` of the record in SAP's retrieval API and in the local record. */
  readonly sapCategory: SapCategory;
  /** The SAP Cloud SDK for Python class this type mirrors. */
  readonly pythonClass: string;
  /** Carries a data subject (`data_subject` / `data_subjects`). */
  readonly hasDataSubject: boolean;
  /** Carries `object {type, id}`. */
  readonly hasObject: boolean;
  /** Transactional type: `success` goes into the SAP body. */
  readonly transactional: boolean;
}

function type(
  name: AuditEventName,
  kind: AuditEventKind,
  sapEndpoint: SapEndpoint,
  sapCategory: SapCategory,
  pythonClass: string,
): AuditEventType {
  return Object.freeze({
    name,
    kind,
    sapEndpoint,
    sapCategory,
    pythonClass,
    hasDataSubject: kind === 'data-access' || kind === 'data-modification' || kind === 'data-deletion',
    hasObject: kind !== 'security',
    transactional: kind !== 'security' && kind !== 'data-access',
  });
}

/** The event → SAP message type table (CONTRACT §1). */
export const AUDIT_EVENT_TYPES: Readonly<Record<AuditEventName, AuditEventType>> = Object.freeze({
  [AuditEventName.SecurityEvent]: type(
    AuditEventName.SecurityEvent,
    'security',
    'security-events',
    'audit.security-events',
    'SecurityEvent',
  ),
  [AuditEventName.DataAccess]: type(
    AuditEventName.DataAccess,
    'data-access',
    'data-accesses',
    'audit.data-access',
    'DataAccessEvent',
  ),
  [AuditEventName.DataModification]: type(
    AuditEventName.DataModification,
    'data-modification',
    'data-modifications',
    'audit.data-modification',
    'DataModificationEvent',
  ),
  [AuditEventName.DataDeletion]: type(
    AuditEventName.DataDeletion,
    'data-deletion',
    'data-modifications',
    'audit.data-modification',
    'DataDeletionEvent',
  ),
  [AuditEventName.ConfigurationChange]: type(
    AuditEventName.ConfigurationChange,
    'configuration-change',
    'configuration-changes',
    'audit.configuration',
    'ConfigurationChangeEvent',
  ),
  [AuditEventName.ConfigurationDeletion]: type(
    AuditEventName.ConfigurationDeletion,
    'configuration-deletion',
    'configuration-changes',
    'audit.configuration',
    'ConfigurationDeletionEvent',
  ),
});

/** The type for an event name, or undefined when the name is not one of the six. */
export function auditEventType(name: string): AuditEventType | undefined {
  return Object.prototype.hasOwnProperty.call(AUDIT_EVENT_TYPES, name)
    ? AUDIT_EVENT_TYPES[name as AuditEventName]
    : undefined;
}
