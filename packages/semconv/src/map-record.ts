import { isIP } from 'node:net';
import {
  anyValueToJson,
  anyValueTypeName,
  KeyValueList,
  type AnyValue,
  type JsonValue,
  type KeyValue,
} from './any-value.js';
import { auditEventType, type AuditEventType } from './event-types.js';
import { Attr, AttributeSuffix, StructuredAttr, Tenant, USER_FROM_TOKEN } from './names.js';
import type { IdMap, SapDataModificationMessage, SapDataSubject, SapMessage } from './sap-message.js';

/** One problem with a record: `field` is the attribute key (or record field) at fault. */
export interface ValidationIssue {
  readonly field: string;
  readonly message: string;
}

export interface AuditRecordInput {
  /** The record's EventName (or its `event.name` attribute). */
  readonly eventName: string;
  readonly body: AnyValue;
  /** Event time, already formatted as SAP wants it (see `formatSapTime`). */
  readonly time: string;
  readonly attributes: readonly KeyValue[];
  /** Supplies a uuid when the record has no `log.record.uid`; without it that attribute is required. */
  readonly deriveUuid?: () => string;
}

export interface MappedAuditRecord {
  readonly ok: true;
  readonly type: AuditEventType;
  readonly uuid: string;
  readonly message: SapMessage;
  /** `audit.success`; kept for the local record even where SAP's body leaves it out. */
  readonly success: boolean | undefined;
  readonly tenantSubdomain: string | undefined;
}

export interface RejectedAuditRecord {
  readonly ok: false;
  readonly type: AuditEventType | undefined;
  readonly uuid: string | undefined;
  readonly issues: readonly ValidationIssue[];
}

export type AuditMappingResult = MappedAuditRecord | RejectedAuditRecord;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** A subaccount subdomain is one DNS label; it becomes part of the token host, so nothing else may pass. */
const SUBDOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isSubdomain(value: string): boolean {
  return SUBDOMAIN_PATTERN.test(value);
}

function asSubdomain(field: string, value: AnyValue, issues: Issues): string | undefined {
  const s = asNonBlankString(field, value, issues);
  if (s === undefined || isSubdomain(s)) return s;
  issues.add(field, 'must be a subdomain: letters, digits and "-", at most 63 characters');
  return undefined;
}

interface AttributeEntry {
  readonly name: string;
  /** Index in `audit.attributes` for the structured form, -1 for the flattened form (to name fields in errors). */
  readonly item: number;
  /** The first suffix seen, to name a stray entry in errors. */
  firstSuffix?: string;
  old?: string;
  new?: string;
  successful?: boolean;
  value?: string;
}

/** Everything one pass over the attributes collects. */
class Fields {
  uuid: string | undefined;
  user: string | undefined;
  tenant: string | undefined;
  tenantSubdomain: string | undefined;
  success: boolean | undefined;
  ip: string | undefined;
  identityProvider: string | undefined;
  channel: string | undefined;
  messageId: string | undefined;
  objectType: string | undefined;
  objectId: IdMap | undefined;
  subjectType: string | undefined;
  subjectRole: string | undefined;
  subjectId: IdMap | undefined;
  subjects: SapDataSubject[] | undefined;
  attributeNames: string[] | undefined;
  structuredAttributes = false;
  entries: Map<string, AttributeEntry> | undefined;
  attachmentIds: string[] | undefined;
  attachmentNames: string[] | undefined;
  customDetails: Record<string, JsonValue> | undefined;
  /** Any `audit.attribute.*` key of the flattened form was given. */
  flatAttributes = false;
  /** Bits of the PRESENCE keys given, checked against what the event type uses once it is known. */
  present = 0;
}

class Issues {
  readonly list: ValidationIssue[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  /** Adds a "required" issue unless the field already has one (e.g. it was blank). */
  required(field: string, message: string): void {
    if (!this.list.some((i) => i.field === field)) this.add(field, message);
  }
}

function describe(value: AnyValue): string {
  return anyValueTypeName(value);
}

function asString(field: string, value: AnyValue, issues: Issues): string | undefined {
  if (typeof value === 'string') return value;
  issues.add(field, `must be a string, got ${describe(value)}`);
  return undefined;
}

function asNonBlankString(field: string, value: AnyValue, issues: Issues): string | undefined {
  const s = asString(field, value, issues);
  if (s === undefined) return undefined;
  if (s.trim() === '') {
    issues.add(field, 'must not be blank');
    return undefined;
  }
  return s;
}

function asBool(field: string, value: AnyValue, issues: Issues): boolean | undefined {
  if (typeof value === 'boolean') return value;
  issues.add(field, `must be a bool, got ${describe(value)}`);
  return undefined;
}

function asStringArray(field: string, value: AnyValue, issues: Issues): string[] | undefined {
  if (!Array.isArray(value)) {
    issues.add(field, `must be an array of strings, got ${describe(value)}`);
    return undefined;
  }
  const arr = value as readonly AnyValue[];
  const out: string[] = new Array<string>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i] as AnyValue;
    if (typeof v !== 'string') {
      issues.add(`${field}[${i}]`, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    out[i] = v;
  }
  return out;
}

function asKvList(field: string, value: AnyValue, issues: Issues): readonly KeyValue[] | undefined {
  if (value instanceof KeyValueList) return value.values;
  issues.add(field, `must be a kvlist, got ${describe(value)}`);
  return undefined;
}

function setOnce<K extends keyof Fields>(
  fields: Fields,
  name: K,
  field: string,
  value: Fields[K] | undefined,
  issues: Issues,
): void {
  if (value === undefined) return;
  if (fields[name] !== undefined) {
    issues.add(field, 'given more than once');
    return;
  }
  fields[name] = value;
}

function putId(map: IdMap, mapField: string, key: string, value: AnyValue, issues: Issues): void {
  const field = `${mapField}.${key}`;
  if (key === '') {
    issues.add(field, 'key must not be empty');
    return;
  }
  const s = asString(field, value, issues);
  if (s === undefined) return;
  if (Object.prototype.hasOwnProperty.call(map, key)) {
    issues.add(field, 'given more than once');
    return;
  }
  map[key] = s;
}

function idMapFromKvList(field: string, value: AnyValue, into: IdMap, issues: Issues): void {
  const values = asKvList(field, value, issues);
  if (values === undefined) return;
  for (const kv of values) putId(into, field, kv.key, kv.value, issues);
}

/** The attribute key (or structured path) of an entry's field, for error messages. */
function entryField(e: AttributeEntry, suffix: string): string {
  return e.item < 0
    ? `${Attr.AttributePrefix}${e.name}.${suffix}`
    : `${StructuredAttr.Attributes}[${e.item}].${suffix}`;
}

function entryFor(fields: Fields, name: string): AttributeEntry {
  fields.entries ??= new Map();
  let entry = fields.entries.get(name);
  if (entry === undefined) {
    entry = { name, item: -1 };
    fields.entries.set(name, entry);
  }
  return entry;
}

function setEntry(entry: AttributeEntry, suffix: string, value: AnyValue, issues: Issues): void {
  entry.firstSuffix ??= suffix;
  switch (suffix) {
    case AttributeSuffix.Old:
    case AttributeSuffix.New:
    case AttributeSuffix.Value:
      if (typeof value !== 'string') issues.add(entryField(entry, suffix), `must be a string, got ${describe(value)}`);
      else if (entry[suffix] !== undefined) issues.add(entryField(entry, suffix), 'given more than once');
      else entry[suffix] = value;
      return;
    case AttributeSuffix.Successful:
      if (typeof value !== 'boolean') issues.add(entryField(entry, suffix), `must be a bool, got ${describe(value)}`);
      else if (entry.successful !== undefined) issues.add(entryField(entry, suffix), 'given more than once');
      else entry.successful = value;
      return;
    default:
      issues.add(entryField(entry, suffix), 'unknown attribute field; expected old, new, successful or value');
  }
}

function readStructuredAttributes(fields: Fields, value: AnyValue, issues: Issues): void {
  const field = StructuredAttr.Attributes;
  if (!Array.isArray(value)) {
    issues.add(field, `must be an array of kvlists, got ${describe(value)}`);
    return;
  }
  if (fields.structuredAttributes) {
    issues.add(field, 'given more than once');
    return;
  }
  fields.structuredAttributes = true;
  if (fields.flatAttributes) return; // mixing the forms is reported by checkNames
  const items = value as readonly AnyValue[];
  const names: string[] = [];
  fields.entries ??= new Map();
  for (let i = 0; i < items.length; i++) {
    const itemField = `${field}[${i}]`;
    const kvs = asKvList(itemField, items[i] as AnyValue, issues);
    if (kvs === undefined) continue;
    const entry: AttributeEntry = { name: '', item: i };
    let name: string | undefined;
    for (const kv of kvs) {
      if (kv.key === 'name') name = asString(`${itemField}.name`, kv.value, issues);
      else setEntry(entry, kv.key, kv.value, issues);
    }
    if (name === undefined) {
      issues.required(`${itemField}.name`, 'required');
      continue;
    }
    if (name.trim() === '') {
      issues.add(`${itemField}.name`, 'must not be blank');
      continue;
    }
    if (fields.entries.has(name)) {
      issues.add(`${itemField}.name`, `duplicate attribute name "${name}"`);
      continue;
    }
    names.push(name);
    fields.entries.set(name, entry);
  }
  fields.attributeNames = names;
}

function readStructuredSubjects(fields: Fields, value: AnyValue, issues: Issues): void {
  const field = StructuredAttr.DataSubjects;
  if (!Array.isArray(value)) {
    issues.add(field, `must be an array of kvlists, got ${describe(value)}`);
    return;
  }
  const items = value as readonly AnyValue[];
  const subjects: SapDataSubject[] = [];
  for (let i = 0; i < items.length; i++) {
    const itemField = `${field}[${i}]`;
    const kvs = asKvList(itemField, items[i] as AnyValue, issues);
    if (kvs === undefined) continue;
    let type: string | undefined;
    let role: string | undefined;
    const id: IdMap = {};
    for (const kv of kvs) {
      switch (kv.key) {
        case 'type':
          type = asNonBlankString(`${itemField}.type`, kv.value, issues);
          break;
        case 'role':
          role = asNonBlankString(`${itemField}.role`, kv.value, issues);
          break;
        case 'id':
          idMapFromKvList(`${itemField}.id`, kv.value, id, issues);
          break;
        default:
          issues.add(`${itemField}.${kv.key}`, 'unknown data subject field; expected type, role or id');
      }
    }
    if (type === undefined) issues.required(`${itemField}.type`, 'required');
    if (Object.keys(id).length === 0) issues.add(`${itemField}.id`, 'at least one key is required');
    if (type !== undefined) subjects.push(role === undefined ? { type, id } : { type, role, id });
  }
  if (items.length === 0) issues.add(field, 'must not be empty');
  setOnce(fields, 'subjects', field, subjects, issues);
}

function readCustomDetails(fields: Fields, value: AnyValue, issues: Issues): void {
  const kvs = asKvList(StructuredAttr.CustomDetails, value, issues);
  if (kvs === undefined) return;
  fields.customDetails ??= {};
  for (const kv of kvs) {
    if (Object.prototype.hasOwnProperty.call(fields.customDetails, kv.key)) {
      issues.add(`${StructuredAttr.CustomDetails}.${kv.key}`, 'given more than once');
    } else {
      fields.customDetails[kv.key] = anyValueToJson(kv.value);
    }
  }
}

/** Reads an `audit.*` key that is not one of the exact keys. Returns false if unknown. */
function readPrefixed(fields: Fields, key: string, value: AnyValue, issues: Issues): boolean {
  // Dispatch on the character after `audit.` so each key is compared with one prefix at most.
  switch (key.charCodeAt(6)) {
    case 0x61 /* a */:
      return key.startsWith(Attr.AttributePrefix) && readAttributeEntry(fields, key, value, issues);
    case 0x6f /* o */:
    case 0x64 /* d */:
    case 0x63 /* c */:
      return readIdOrCustom(fields, key, value, issues);
    default:
      return false;
  }
}

function readAttributeEntry(fields: Fields, key: string, value: AnyValue, issues: Issues): boolean {
  fields.flatAttributes = true;
  const dot = key.lastIndexOf('.');
  const name = key.slice(Attr.AttributePrefix.length, dot);
  if (dot < Attr.AttributePrefix.length || name === '') {
    issues.add(key, 'expected audit.attribute.<name>.<old|new|successful|value>');
    return true;
  }
  setEntry(entryFor(fields, name), key.slice(dot + 1), value, issues);
  return true;
}

function readIdOrCustom(fields: Fields, key: string, value: AnyValue, issues: Issues): boolean {
  if (key.startsWith(Attr.ObjectIdPrefix)) {
    fields.objectId ??= {};
    putId(fields.objectId, StructuredAttr.ObjectId, key.slice(Attr.ObjectIdPrefix.length), value, issues);
    fields.present |= P_OBJECT_ID;
    return true;
  }
  if (key.startsWith(Attr.DataSubjectIdPrefix)) {
    fields.subjectId ??= {};
    putId(fields.subjectId, StructuredAttr.DataSubjectId, key.slice(Attr.DataSubjectIdPrefix.length), value, issues);
    fields.present |= P_SUBJECT_ID;
    return true;
  }
  if (key.startsWith(Attr.CustomPrefix)) {
    const k = key.slice(Attr.CustomPrefix.length);
    const s = asString(key, value, issues);
    if (s === undefined) return true;
    fields.customDetails ??= {};
    if (k === '') issues.add(key, 'key must not be empty');
    else if (Object.prototype.hasOwnProperty.call(fields.customDetails, k)) issues.add(key, 'given more than once');
    else fields.customDetails[k] = s;
    return true;
  }
  return false;
}

/** Exact attribute keys, looked up once per attribute (one hash lookup instead of a chain of string compares). */
const enum K {
  RecordUid,
  UserId,
  Tenant,
  TenantSubdomain,
  Success,
  ClientAddress,
  IdentityProvider,
  Channel,
  MessageId,
  ObjectType,
  ObjectId,
  SubjectType,
  SubjectRole,
  SubjectId,
  Subjects,
  AttributeNames,
  Attributes,
  AttachmentIds,
  AttachmentNames,
  CustomDetails,
}

const EXACT_KEYS = new Map<string, K>([
  [Attr.RecordUid, K.RecordUid],
  [Attr.UserId, K.UserId],
  [Attr.Tenant, K.Tenant],
  [Attr.TenantSubdomain, K.TenantSubdomain],
  [Attr.Success, K.Success],
  [Attr.ClientAddress, K.ClientAddress],
  [Attr.IdentityProvider, K.IdentityProvider],
  [Attr.Channel, K.Channel],
  [Attr.MessageId, K.MessageId],
  [Attr.ObjectType, K.ObjectType],
  [StructuredAttr.ObjectId, K.ObjectId],
  [Attr.DataSubjectType, K.SubjectType],
  [Attr.DataSubjectRole, K.SubjectRole],
  [StructuredAttr.DataSubjectId, K.SubjectId],
  [StructuredAttr.DataSubjects, K.Subjects],
  [Attr.AttributeNames, K.AttributeNames],
  [StructuredAttr.Attributes, K.Attributes],
  [Attr.AttachmentIds, K.AttachmentIds],
  [Attr.AttachmentNames, K.AttachmentNames],
  [StructuredAttr.CustomDetails, K.CustomDetails],
]);

/** Keys whose use depends on the event type: one bit each in `Fields.present`. */
const PRESENCE: readonly string[] = [
  Attr.IdentityProvider,
  Attr.Channel,
  Attr.MessageId,
  Attr.ObjectType,
  StructuredAttr.ObjectId,
  Attr.DataSubjectType,
  Attr.DataSubjectRole,
  StructuredAttr.DataSubjectId,
  StructuredAttr.DataSubjects,
  Attr.AttachmentIds,
  Attr.AttachmentNames,
];
const bit = (key: string): number => 1 << PRESENCE.indexOf(key);
const P_IDENTITY_PROVIDER = bit(Attr.IdentityProvider);
const P_CHANNEL = bit(Attr.Channel);
const P_MESSAGE_ID = bit(Attr.MessageId);
const P_OBJECT_TYPE = bit(Attr.ObjectType);
const P_OBJECT_ID = bit(StructuredAttr.ObjectId);
const P_SUBJECT_TYPE = bit(Attr.DataSubjectType);
const P_SUBJECT_ROLE = bit(Attr.DataSubjectRole);
const P_SUBJECT_ID = bit(StructuredAttr.DataSubjectId);
const P_SUBJECTS = bit(StructuredAttr.DataSubjects);
const P_ATTACHMENT_IDS = bit(Attr.AttachmentIds);
const P_ATTACHMENT_NAMES = bit(Attr.AttachmentNames);

function collect(attributes: readonly KeyValue[], issues: Issues): Fields {
  const f = new Fields();
  for (let i = 0; i < attributes.length; i++) {
    const { key, value } = attributes[i] as KeyValue;
    const k = EXACT_KEYS.get(key);
    switch (k) {
      case K.RecordUid:
        setOnce(f, 'uuid', key, asNonBlankString(key, value, issues), issues);
        break;
      case K.UserId:
        setOnce(f, 'user', key, asNonBlankString(key, value, issues), issues);
        break;
      case K.Tenant:
        setOnce(f, 'tenant', key, asNonBlankString(key, value, issues), issues);
        break;
      case K.TenantSubdomain:
        setOnce(f, 'tenantSubdomain', key, asSubdomain(key, value, issues), issues);
        break;
      case K.Success:
        setOnce(f, 'success', key, asBool(key, value, issues), issues);
        break;
      case K.ClientAddress:
        // A general OTel attribute (other instrumentation may set it): used by security events, ignored elsewhere.
        setOnce(f, 'ip', key, asString(key, value, issues), issues);
        break;
      case K.IdentityProvider:
        setOnce(f, 'identityProvider', key, asNonBlankString(key, value, issues), issues);
        f.present |= P_IDENTITY_PROVIDER;
        break;
      case K.Channel:
        setOnce(f, 'channel', key, asNonBlankString(key, value, issues), issues);
        f.present |= P_CHANNEL;
        break;
      case K.MessageId:
        setOnce(f, 'messageId', key, asNonBlankString(key, value, issues), issues);
        f.present |= P_MESSAGE_ID;
        break;
      case K.ObjectType:
        setOnce(f, 'objectType', key, asNonBlankString(key, value, issues), issues);
        f.present |= P_OBJECT_TYPE;
        break;
      case K.ObjectId:
        f.objectId ??= {};
        idMapFromKvList(key, value, f.objectId, issues);
        f.present |= P_OBJECT_ID;
        break;
      case K.SubjectType:
        setOnce(f, 'subjectType', key, asNonBlankString(key, value, issues), issues);
        f.present |= P_SUBJECT_TYPE;
        break;
      case K.SubjectRole:
        setOnce(f, 'subjectRole', key, asNonBlankString(key, value, issues), issues);
        f.present |= P_SUBJECT_ROLE;
        break;
      case K.SubjectId:
        f.subjectId ??= {};
        idMapFromKvList(key, value, f.subjectId, issues);
        f.present |= P_SUBJECT_ID;
        break;
      case K.Subjects:
        readStructuredSubjects(f, value, issues);
        f.present |= P_SUBJECTS;
        break;
      case K.AttributeNames:
        f.flatAttributes = true;
        setOnce(f, 'attributeNames', key, asStringArray(key, value, issues), issues);
        break;
      case K.Attributes:
        readStructuredAttributes(f, value, issues);
        break;
      case K.AttachmentIds:
        setOnce(f, 'attachmentIds', key, asStringArray(key, value, issues), issues);
        f.present |= P_ATTACHMENT_IDS;
        break;
      case K.AttachmentNames:
        setOnce(f, 'attachmentNames', key, asStringArray(key, value, issues), issues);
        f.present |= P_ATTACHMENT_NAMES;
        break;
      case K.CustomDetails:
        readCustomDetails(f, value, issues);
        break;
      case undefined:
        if (key.startsWith('audit.') && !readPrefixed(f, key, value, issues)) {
          issues.add(key, 'unknown audit attribute');
        }
    }
  }
  return f;
}

/** Which type-dependent keys each kind accepts (bits of `Fields.present`; the others are reported). */
const ALLOWED: Record<AuditEventType['kind'], number> = {
  security: P_IDENTITY_PROVIDER,
  'data-access':
    P_IDENTITY_PROVIDER |
    P_CHANNEL |
    P_OBJECT_TYPE |
    P_OBJECT_ID |
    P_SUBJECT_TYPE |
    P_SUBJECT_ROLE |
    P_SUBJECT_ID |
    P_SUBJECTS |
    P_ATTACHMENT_IDS |
    P_ATTACHMENT_NAMES,
  'data-modification':
    P_MESSAGE_ID | P_OBJECT_TYPE | P_OBJECT_ID | P_SUBJECT_TYPE | P_SUBJECT_ROLE | P_SUBJECT_ID | P_SUBJECTS,
  'data-deletion':
    P_MESSAGE_ID | P_OBJECT_TYPE | P_OBJECT_ID | P_SUBJECT_TYPE | P_SUBJECT_ROLE | P_SUBJECT_ID | P_SUBJECTS,
  'configuration-change': P_MESSAGE_ID | P_OBJECT_TYPE | P_OBJECT_ID,
  'configuration-deletion': P_MESSAGE_ID | P_OBJECT_TYPE | P_OBJECT_ID,
};

/** Attribute-entry suffixes each kind accepts. */
const ENTRY_SUFFIXES: Record<AuditEventType['kind'], readonly AttributeSuffix[]> = {
  security: [AttributeSuffix.Value],
  'data-access': [AttributeSuffix.Successful],
  'data-modification': [AttributeSuffix.Old, AttributeSuffix.New],
  'data-deletion': [AttributeSuffix.Old],
  'configuration-change': [AttributeSuffix.Old, AttributeSuffix.New],
  'configuration-deletion': [AttributeSuffix.Old],
};

function checkNames(f: Fields, type: AuditEventType, issues: Issues): string[] {
  if (f.structuredAttributes && f.flatAttributes) {
    issues.add(
      StructuredAttr.Attributes,
      `use either ${StructuredAttr.Attributes} or ${Attr.AttributeNames} with audit.attribute.<name>.*, not both`,
    );
    return [];
  }
  const names = f.attributeNames;
  const namesField = f.structuredAttributes ? StructuredAttr.Attributes : Attr.AttributeNames;
  if (names === undefined || names.length === 0) {
    if (type.kind !== 'security') {
      issues.add(namesField, `at least one attribute is required for ${type.name}`);
    } else if (f.entries !== undefined && f.entries.size > 0) {
      issues.add(Attr.AttributeNames, 'required when audit.attribute.<name>.value attributes are given');
    }
    return [];
  }
  if (f.structuredAttributes) return names; // names were checked item by item while reading
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (name.trim() === '') issues.add(`${Attr.AttributeNames}[${i}]`, 'must not be blank');
    else if (seen.has(name)) issues.add(`${Attr.AttributeNames}[${i}]`, `duplicate attribute name "${name}"`);
    seen.add(name);
  }
  for (const [name, entry] of f.entries ?? []) {
    if (!seen.has(name)) {
      issues.add(
        entryField(entry, entry.firstSuffix ?? 'value'),
        `attribute "${name}" is not listed in ${Attr.AttributeNames}`,
      );
    }
  }
  return names;
}

function buildAttributes(f: Fields, type: AuditEventType, names: string[], issues: Issues) {
  const allowed = ENTRY_SUFFIXES[type.kind];
  const out: Record<string, string | boolean>[] = [];
  // Duplicate names are already reported; check each name's fields once.
  for (const name of new Set(names)) {
    const entry: AttributeEntry = f.entries?.get(name) ?? { name, item: -1 };
    for (const suffix of [
      AttributeSuffix.Old,
      AttributeSuffix.New,
      AttributeSuffix.Successful,
      AttributeSuffix.Value,
    ]) {
      if (entry[suffix] !== undefined && !allowed.includes(suffix)) {
        issues.add(entryField(entry, suffix), `not used by ${type.name} (allowed: ${allowed.join(', ')})`);
      }
    }
    const item: Record<string, string | boolean> = { name };
    switch (type.kind) {
      case 'security':
        if (entry.value === undefined) issues.add(entryField(entry, 'value'), 'required for security event attributes');
        else if (entry.value.trim() === '') issues.add(entryField(entry, 'value'), 'must not be blank');
        else item['value'] = entry.value;
        break;
      case 'data-access':
        if (entry.successful !== undefined) item['successful'] = entry.successful;
        break;
      case 'data-modification':
      case 'configuration-change':
        if (entry.old !== undefined) item['old'] = entry.old;
        if (entry.new === undefined) issues.add(entryField(entry, 'new'), `required for ${type.name}`);
        else item['new'] = entry.new;
        break;
      case 'data-deletion':
      case 'configuration-deletion':
        if (entry.old !== undefined) item['old'] = entry.old;
        break;
    }
    out.push(item);
  }
  return out;
}

/** `data_subject` (flattened form) or `data_subjects` (structured form), with its issues. */
function buildSubject(f: Fields, issues: Issues): Pick<SapDataModificationMessage, 'data_subject' | 'data_subjects'> {
  const hasSingle = f.subjectType !== undefined || f.subjectRole !== undefined || f.subjectId !== undefined;
  if (f.subjects !== undefined) {
    if (hasSingle) {
      issues.add(
        StructuredAttr.DataSubjects,
        `use either ${StructuredAttr.DataSubjects} or audit.data_subject.*, not both`,
      );
    }
    return { data_subjects: f.subjects };
  }
  if (f.subjectType === undefined) issues.required(Attr.DataSubjectType, 'required (or give audit.data_subjects)');
  if (f.subjectId === undefined || Object.keys(f.subjectId).length === 0) {
    issues.add(StructuredAttr.DataSubjectId, 'at least one key is required (audit.data_subject.id.<key>)');
  }
  if (f.subjectType === undefined || f.subjectId === undefined) return {};
  const subject: SapDataSubject =
    f.subjectRole === undefined
      ? { type: f.subjectType, id: f.subjectId }
      : { type: f.subjectType, role: f.subjectRole, id: f.subjectId };
  return { data_subject: subject };
}

/**
 * Validates an audit record and maps it to the SAP Audit Log Service v2 message (CONTRACT §1–2).
 * The one implementation of the rules: the SDK validates events with it before sending and the
 * sidecar maps received records with it.
 */
export function mapAuditRecord(input: AuditRecordInput): AuditMappingResult {
  const issues = new Issues();
  const type = auditEventType(input.eventName);
  const f = collect(input.attributes, issues);

  if (f.uuid !== undefined && !isUuid(f.uuid)) {
    issues.add(Attr.RecordUid, `"${f.uuid}" is not a UUID`);
  }
  if (type === undefined) {
    issues.add('EventName', `unknown audit event "${input.eventName}"`);
    return { ok: false, type, uuid: f.uuid, issues: issues.list };
  }
  const uuid = f.uuid ?? input.deriveUuid?.();
  if (uuid === undefined) issues.add(Attr.RecordUid, 'required');

  const unused = f.present & ~ALLOWED[type.kind];
  if (unused !== 0) {
    PRESENCE.forEach((key, i) => {
      if (unused & (1 << i)) issues.add(key, `not used by ${type.name}`);
    });
  }

  const tenant = f.tenant ?? Tenant.PROVIDER;
  if (/\s/.test(tenant)) issues.add(Attr.Tenant, 'must be $PROVIDER, $SUBSCRIBER or a zone id');

  const message: Record<string, unknown> = {
    uuid,
    user: f.user ?? USER_FROM_TOKEN,
    time: input.time,
    tenant,
  };

  if (type.kind === 'security') {
    const body = input.body;
    let data: string | undefined;
    if (typeof body === 'string') data = body;
    else if (body !== null && body !== undefined) data = JSON.stringify(anyValueToJson(body));
    if (data === undefined || data.trim() === '')
      issues.add('body', 'required for audit.security_event (it is SAP `data`)');
    else message['data'] = data;
    if (f.ip !== undefined) {
      if (isIP(f.ip) === 0) issues.add(Attr.ClientAddress, `"${f.ip}" is not a valid IPv4 or IPv6 address`);
      else message['ip'] = f.ip;
    }
    if (f.identityProvider !== undefined) message['identityProvider'] = f.identityProvider;
    const names = checkNames(f, type, issues);
    if (names.length > 0) message['attributes'] = buildAttributes(f, type, names, issues);
  } else {
    if (type.kind === 'data-access' && f.identityProvider !== undefined) {
      message['identityProvider'] = f.identityProvider;
    }
    const names = checkNames(f, type, issues);
    message['attributes'] = buildAttributes(f, type, names, issues);

    if (f.objectType === undefined) issues.required(Attr.ObjectType, `required for ${type.name}`);
    if (f.objectId === undefined || Object.keys(f.objectId).length === 0) {
      issues.add(StructuredAttr.ObjectId, `at least one key is required for ${type.name} (audit.object.id.<key>)`);
    }
    message['object'] = { type: f.objectType, id: f.objectId };

    if (type.hasDataSubject) Object.assign(message, buildSubject(f, issues));
    if (type.kind === 'data-access') {
      if (f.channel !== undefined) message['channel'] = f.channel;
      if (f.attachmentNames !== undefined && f.attachmentIds === undefined) {
        issues.add(Attr.AttachmentIds, `required when ${Attr.AttachmentNames} is given`);
      }
      if (f.attachmentIds !== undefined) {
        const ids = f.attachmentIds;
        const attNames = f.attachmentNames;
        if (attNames !== undefined && attNames.length !== ids.length) {
          issues.add(
            Attr.AttachmentNames,
            `has ${attNames.length} entries but ${Attr.AttachmentIds} has ${ids.length}`,
          );
        }
        message['attachments'] = ids.map((id, i) => {
          if (id.trim() === '') issues.add(`${Attr.AttachmentIds}[${i}]`, 'must not be blank');
          const name = attNames?.[i];
          return name === undefined || name === '' ? { id } : { id, name };
        });
      }
    }
    if (type.transactional) {
      if (f.messageId !== undefined) message['id'] = f.messageId;
      if (f.success !== undefined) message['success'] = f.success;
    }
  }
  if (f.customDetails !== undefined) message['customDetails'] = f.customDetails;

  if (issues.list.length > 0 || uuid === undefined) {
    return { ok: false, type, uuid, issues: issues.list };
  }
  return {
    ok: true,
    type,
    uuid,
    message: message as unknown as SapMessage,
    success: f.success,
    tenantSubdomain: f.tenantSubdomain,
  };
}

/** One line naming each issue, e.g. `client.address: "x" is not a valid IPv4 or IPv6 address`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}
