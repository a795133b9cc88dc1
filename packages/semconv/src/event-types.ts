import {
  configurationChangeMessage,
  dataAccessMessage,
  dataModificationMessage,
  securityEventMessage,
  type MessageBuilder,
} from './build-message.js';
import { AttributeSuffix, AuditEventName } from './names.js';
import type { NgRules } from './ng-event.js';
import type {
  SapConfigurationChangeMessage,
  SapDataAccessMessage,
  SapDataModificationMessage,
  SapSecurityEventMessage,
} from './sap-message.js';

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

/** The SAP v2 message type each kind is sent as. */
export interface SapMessageByKind {
  security: SapSecurityEventMessage;
  'data-access': SapDataAccessMessage;
  'data-modification': SapDataModificationMessage;
  'data-deletion': SapDataModificationMessage;
  'configuration-change': SapConfigurationChangeMessage;
  'configuration-deletion': SapConfigurationChangeMessage;
}

/** An optional key a kind does not use is rejected with `<key>: not used by <event name>`. */
export type OptionalKeyUse = 'optional' | 'unused';

/**
 * One row of the per-kind rule table: every rule that differs between the event kinds. The checks
 * (`check-record.ts`) and the message builders (`build-message.ts`) read the rules only from here, so
 * a new per-kind property is one new column.
 */
export interface EventKindRules<K extends AuditEventKind = AuditEventKind> {
  readonly name: AuditEventName;
  readonly kind: K;
  /** Last path segment of the SAP write API v2 (`/audit-log/oauth2/v2/<endpoint>`). */
  readonly sapEndpoint: SapEndpoint;
  /** `category` of the record in SAP's retrieval API and in the local record. */
  readonly sapCategory: SapCategory;
  /** The SAP Cloud SDK for Python class this kind mirrors. */
  readonly pythonClass: string;
  /** The record body is SAP `data` (required, non-blank). Otherwise the body is not used. */
  readonly bodyIsData: boolean;
  /** `client.address` → `ip` (a valid IP address), or ignored: other instrumentation may set this general attribute. */
  readonly clientAddress: 'optional' | 'ignored';
  /** `audit.identity_provider` → `identityProvider`. */
  readonly identityProvider: OptionalKeyUse;
  /** `audit.channel` → `channel`. */
  readonly channel: OptionalKeyUse;
  /** `audit.message.id` → `id`. */
  readonly messageId: OptionalKeyUse;
  /** `audit.attachment.ids` / `.names` → `attachments`. */
  readonly attachments: OptionalKeyUse;
  /** `object {type, id}`: `audit.object.type` and at least one id key; when unused, those keys are rejected. */
  readonly object: 'required' | 'unused';
  /** `data_subject` (type, role, at least one id key) or `data_subjects`; when unused, those keys are rejected. */
  readonly dataSubject: 'required' | 'unused';
  /** `attributes[]` (`audit.attribute.names` or `audit.attributes`): required with at least one name, or optional. */
  readonly attributeNames: 'required' | 'optional';
  /** The `audit.attribute.<name>.<suffix>` fields accepted, and those every listed name must have. */
  readonly entries: { readonly allowed: readonly AttributeSuffix[]; readonly required: readonly AttributeSuffix[] };
  /** Transactional kind: `audit.success` goes into the SAP body (the local record keeps it for every kind). */
  readonly successInBody: boolean;
  /** SAP Audit Log Service NG: the v2 catalog message (format `otlp`) and envelope type (format `json`). */
  readonly ng: NgRules;
  readonly buildMessage: MessageBuilder<SapMessageByKind[K]>;
}

/** The rules of one of the kinds `K` (by default any of the six); testing `kind` narrows `buildMessage`. */
export type AuditEventType<K extends AuditEventKind = AuditEventKind> = { [P in K]: EventKindRules<P> }[K];

const { Old, New, Successful, Value } = AttributeSuffix;

function rules<K extends AuditEventKind>(row: EventKindRules<K>): EventKindRules<K> {
  Object.freeze(row.entries.allowed);
  Object.freeze(row.entries.required);
  Object.freeze(row.entries);
  Object.freeze(row.ng);
  return Object.freeze(row);
}

/**
 * The per-kind rule table, one row per event kind. The order is the order of the docs' tables; the
 * spool does not depend on it (it has its own frozen code per event name).
 */
export const EVENT_KINDS: { readonly [K in AuditEventKind]: EventKindRules<K> } = Object.freeze({
  security: rules({
    name: AuditEventName.SecurityEvent,
    kind: 'security',
    sapEndpoint: 'security-events',
    sapCategory: 'audit.security-events',
    pythonClass: 'SecurityEvent',
    bodyIsData: true,
    clientAddress: 'optional',
    identityProvider: 'optional',
    channel: 'unused',
    messageId: 'unused',
    attachments: 'unused',
    object: 'unused',
    dataSubject: 'unused',
    attributeNames: 'optional',
    entries: { allowed: [Value], required: [Value] },
    successInBody: false,
    ng: { message: 'ZzzCustomEvent', jsonType: 'legacySecurityWrapper', perAttribute: false },
    buildMessage: securityEventMessage,
  }),
  'data-access': rules({
    name: AuditEventName.DataAccess,
    kind: 'data-access',
    sapEndpoint: 'data-accesses',
    sapCategory: 'audit.data-access',
    pythonClass: 'DataAccessEvent',
    bodyIsData: false,
    clientAddress: 'ignored',
    identityProvider: 'optional',
    channel: 'optional',
    messageId: 'unused',
    attachments: 'optional',
    object: 'required',
    dataSubject: 'required',
    attributeNames: 'required',
    entries: { allowed: [Successful], required: [] },
    successInBody: false,
    ng: { message: 'DppDataAccess', jsonType: 'dppDataAccess', perAttribute: true },
    buildMessage: dataAccessMessage,
  }),
  'data-modification': rules({
    name: AuditEventName.DataModification,
    kind: 'data-modification',
    sapEndpoint: 'data-modifications',
    sapCategory: 'audit.data-modification',
    pythonClass: 'DataModificationEvent',
    bodyIsData: false,
    clientAddress: 'ignored',
    identityProvider: 'unused',
    channel: 'unused',
    messageId: 'optional',
    attachments: 'unused',
    object: 'required',
    dataSubject: 'required',
    attributeNames: 'required',
    // `new` is optional: a name alone says the attribute changed without logging its values (a
    // password), as `@sap/audit-logging`'s `update().attribute({ name })` sends it.
    entries: { allowed: [Old, New], required: [] },
    successInBody: true,
    ng: { message: 'DppDataModification', jsonType: 'dppDataModification', perAttribute: true },
    buildMessage: dataModificationMessage,
  }),
  'data-deletion': rules({
    name: AuditEventName.DataDeletion,
    kind: 'data-deletion',
    sapEndpoint: 'data-modifications',
    sapCategory: 'audit.data-modification',
    pythonClass: 'DataDeletionEvent',
    bodyIsData: false,
    clientAddress: 'ignored',
    identityProvider: 'unused',
    channel: 'unused',
    messageId: 'optional',
    attachments: 'unused',
    object: 'required',
    dataSubject: 'required',
    attributeNames: 'required',
    entries: { allowed: [Old], required: [] },
    successInBody: true,
    ng: { message: 'DppDataDelete', jsonType: 'dppDataModification', perAttribute: true },
    buildMessage: dataModificationMessage,
  }),
  'configuration-change': rules({
    name: AuditEventName.ConfigurationChange,
    kind: 'configuration-change',
    sapEndpoint: 'configuration-changes',
    sapCategory: 'audit.configuration',
    pythonClass: 'ConfigurationChangeEvent',
    bodyIsData: false,
    clientAddress: 'ignored',
    identityProvider: 'unused',
    channel: 'unused',
    messageId: 'optional',
    attachments: 'unused',
    object: 'required',
    dataSubject: 'unused',
    attributeNames: 'required',
    entries: { allowed: [Old, New], required: [New] },
    successInBody: true,
    ng: { message: 'ConfigurationChange', jsonType: 'configurationChange', perAttribute: true },
    buildMessage: configurationChangeMessage,
  }),
  'configuration-deletion': rules({
    name: AuditEventName.ConfigurationDeletion,
    kind: 'configuration-deletion',
    sapEndpoint: 'configuration-changes',
    sapCategory: 'audit.configuration',
    pythonClass: 'ConfigurationDeletionEvent',
    bodyIsData: false,
    clientAddress: 'ignored',
    identityProvider: 'unused',
    channel: 'unused',
    messageId: 'optional',
    attachments: 'unused',
    object: 'required',
    dataSubject: 'unused',
    attributeNames: 'required',
    entries: { allowed: [Old], required: [] },
    successInBody: true,
    ng: { message: 'ConfigurationDelete', jsonType: 'configurationChange', perAttribute: true },
    buildMessage: configurationChangeMessage,
  }),
});

const ROWS: readonly AuditEventType[] = Object.freeze(Object.values(EVENT_KINDS));

/** The rule table by event name, in table order. */
export const AUDIT_EVENT_TYPES = Object.freeze(
  Object.fromEntries(ROWS.map((row) => [row.name, row])) as Record<AuditEventName, AuditEventType>,
);

const BY_NAME = new Map<string, AuditEventType>(ROWS.map((row) => [row.name, row]));

/** The rules for an event name, or undefined when the name is not one of the six. */
export function auditEventType(name: string): AuditEventType | undefined {
  return BY_NAME.get(name);
}
