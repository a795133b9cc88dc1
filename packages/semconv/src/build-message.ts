/**
 * The SAP v2 message of a record whose checks passed. `messageParts` applies the kind's rules (what
 * goes into the body); the builders, one per SAP message type, place the parts in SAP's field order:
 * uuid, user, time, tenant, data, ip, identityProvider, attributes, object, data_subject(s), channel,
 * attachments, id, success, customDetails.
 */

import { anyValueToJson, type AnyValue, type JsonValue } from './any-value.js';
import type { EventKindRules } from './event-types.js';
import { Tenant, USER_FROM_TOKEN } from './names.js';
import type { AttributeEntry, Fields } from './record-fields.js';
import type {
  SapAttachment,
  SapChangeAttribute,
  SapConfigurationChangeMessage,
  SapDataAccessAttribute,
  SapDataAccessMessage,
  SapDataModificationMessage,
  SapDataSubject,
  SapObject,
  SapSecurityAttribute,
  SapSecurityEventMessage,
} from './sap-message.js';

/** What a record puts into its SAP message: a part is undefined when absent or when the kind does not send it. */
export interface MessageParts {
  readonly user: string;
  readonly time: string;
  readonly tenant: string;
  readonly data: string | undefined;
  readonly ip: string | undefined;
  readonly identityProvider: string | undefined;
  /** The order of `attributes[]`; each name's fields are in `entries`. */
  readonly attributeNames: readonly string[];
  readonly entries: ReadonlyMap<string, AttributeEntry> | undefined;
  readonly object: SapObject | undefined;
  readonly dataSubject: SapDataSubject | undefined;
  readonly dataSubjects: SapDataSubject[] | undefined;
  readonly channel: string | undefined;
  readonly attachments: SapAttachment[] | undefined;
  readonly messageId: string | undefined;
  readonly success: boolean | undefined;
  readonly customDetails: Record<string, JsonValue> | undefined;
}

/**
 * Builds the message of one SAP message type. Returns undefined only when a part the type requires is
 * missing, which the checks have then already reported.
 */
export type MessageBuilder<M> = (uuid: string, parts: MessageParts) => M | undefined;

const NO_NAMES: readonly string[] = Object.freeze([]);

/** SAP `data` from the record body: a string as is, any other value as JSON. */
export function sapDataOf(body: AnyValue): string | undefined {
  if (typeof body === 'string') return body;
  if (body === null || body === undefined) return undefined;
  return JSON.stringify(anyValueToJson(body));
}

/** The parts of a checked record that its kind sends to SAP. */
export function messageParts(rules: EventKindRules, f: Fields, time: string, data: string | undefined): MessageParts {
  const subject = rules.dataSubject === 'required';
  return {
    user: f.user ?? USER_FROM_TOKEN,
    time,
    tenant: f.tenant ?? Tenant.PROVIDER,
    data: rules.bodyIsData ? data : undefined,
    ip: rules.clientAddress === 'optional' ? f.ip : undefined,
    identityProvider: rules.identityProvider === 'optional' ? f.identityProvider : undefined,
    attributeNames: f.attributeNames ?? NO_NAMES,
    entries: f.entries,
    object: rules.object === 'required' ? objectOf(f) : undefined,
    dataSubject: subject && f.subjects === undefined ? subjectOf(f) : undefined,
    dataSubjects: subject ? f.subjects : undefined,
    channel: rules.channel === 'optional' ? f.channel : undefined,
    attachments: rules.attachments === 'optional' ? attachmentsOf(f) : undefined,
    messageId: rules.messageId === 'optional' ? f.messageId : undefined,
    success: rules.successInBody ? f.success : undefined,
    customDetails: f.customDetails,
  };
}

function objectOf(f: Fields): SapObject | undefined {
  return f.objectType === undefined || f.objectId === undefined ? undefined : { type: f.objectType, id: f.objectId };
}

function subjectOf(f: Fields): SapDataSubject | undefined {
  if (f.subjectType === undefined || f.subjectId === undefined) return undefined;
  return f.subjectRole === undefined
    ? { type: f.subjectType, id: f.subjectId }
    : { type: f.subjectType, role: f.subjectRole, id: f.subjectId };
}

function attachmentsOf(f: Fields): SapAttachment[] | undefined {
  const ids = f.attachmentIds;
  if (ids === undefined) return undefined;
  const names = f.attachmentNames;
  const out: SapAttachment[] = new Array<SapAttachment>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string;
    const name = names?.[i];
    out[i] = name === undefined || name === '' ? { id } : { id, name };
  }
  return out;
}

export const securityEventMessage: MessageBuilder<SapSecurityEventMessage> = (uuid, p) => {
  if (p.data === undefined) return undefined;
  const m: SapSecurityEventMessage = { uuid, user: p.user, time: p.time, tenant: p.tenant, data: p.data };
  if (p.ip !== undefined) m.ip = p.ip;
  if (p.identityProvider !== undefined) m.identityProvider = p.identityProvider;
  if (p.attributeNames.length > 0) {
    const attributes = securityAttributes(p);
    if (attributes === undefined) return undefined;
    m.attributes = attributes;
  }
  if (p.customDetails !== undefined) m.customDetails = p.customDetails;
  return m;
};

export const dataAccessMessage: MessageBuilder<SapDataAccessMessage> = (uuid, p) => {
  if (p.object === undefined) return undefined;
  const { user, time, tenant, object } = p;
  const attributes = dataAccessAttributes(p);
  const m: SapDataAccessMessage =
    p.identityProvider === undefined
      ? { uuid, user, time, tenant, attributes, object }
      : { uuid, user, time, tenant, identityProvider: p.identityProvider, attributes, object };
  if (p.dataSubject !== undefined) m.data_subject = p.dataSubject;
  if (p.dataSubjects !== undefined) m.data_subjects = p.dataSubjects;
  if (p.channel !== undefined) m.channel = p.channel;
  if (p.attachments !== undefined) m.attachments = p.attachments;
  if (p.customDetails !== undefined) m.customDetails = p.customDetails;
  return m;
};

export const dataModificationMessage: MessageBuilder<SapDataModificationMessage> = (uuid, p) => {
  if (p.object === undefined) return undefined;
  const m: SapDataModificationMessage = {
    uuid,
    user: p.user,
    time: p.time,
    tenant: p.tenant,
    attributes: changeAttributes(p),
    object: p.object,
  };
  if (p.dataSubject !== undefined) m.data_subject = p.dataSubject;
  if (p.dataSubjects !== undefined) m.data_subjects = p.dataSubjects;
  if (p.messageId !== undefined) m.id = p.messageId;
  if (p.success !== undefined) m.success = p.success;
  if (p.customDetails !== undefined) m.customDetails = p.customDetails;
  return m;
};

export const configurationChangeMessage: MessageBuilder<SapConfigurationChangeMessage> = (uuid, p) => {
  if (p.object === undefined) return undefined;
  const m: SapConfigurationChangeMessage = {
    uuid,
    user: p.user,
    time: p.time,
    tenant: p.tenant,
    attributes: changeAttributes(p),
    object: p.object,
  };
  if (p.messageId !== undefined) m.id = p.messageId;
  if (p.success !== undefined) m.success = p.success;
  if (p.customDetails !== undefined) m.customDetails = p.customDetails;
  return m;
};

function securityAttributes(p: MessageParts): SapSecurityAttribute[] | undefined {
  const out: SapSecurityAttribute[] = [];
  for (const name of p.attributeNames) {
    const value = p.entries?.get(name)?.value;
    if (value === undefined) return undefined;
    out.push({ name, value });
  }
  return out;
}

function dataAccessAttributes(p: MessageParts): SapDataAccessAttribute[] {
  const out: SapDataAccessAttribute[] = [];
  for (const name of p.attributeNames) {
    const successful = p.entries?.get(name)?.successful;
    out.push(successful === undefined ? { name } : { name, successful });
  }
  return out;
}

function changeAttributes(p: MessageParts): SapChangeAttribute[] {
  const out: SapChangeAttribute[] = [];
  for (const name of p.attributeNames) {
    const entry = p.entries?.get(name);
    const item: SapChangeAttribute = { name };
    if (entry?.old !== undefined) item.old = entry.old;
    if (entry?.new !== undefined) item.new = entry.new;
    out.push(item);
  }
  return out;
}
