/**
 * One pass over a record's attributes: the exact keys, the flattened `audit.<...>.<k>` keys and the
 * structured keys all land in one {@link Fields}. Whether the event kind uses them is checked later.
 */

import { setOwn, type AnyValue, type KeyValue } from './any-value.js';
import { asBool, asNonBlankString, asString, asStringArray, asSubdomain } from './coerce.js';
import type { Issues } from './issues.js';
import { Attr, StructuredAttr } from './names.js';
import {
  idMapFromKvList,
  readCustomDetails,
  readStructuredAttributes,
  readStructuredSubjects,
} from './read-structured.js';
import { Fields, Present, putId, setEntry, setOnce, type AttributeEntry } from './record-fields.js';

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

export function collect(attributes: readonly KeyValue[], issues: Issues): Fields {
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
        // A general OTel attribute (other instrumentation may set it): kinds that do not use it ignore it.
        setOnce(f, 'ip', key, asString(key, value, issues), issues);
        break;
      case K.IdentityProvider:
        setOnce(f, 'identityProvider', key, asNonBlankString(key, value, issues), issues);
        f.present |= Present.IdentityProvider;
        break;
      case K.Channel:
        setOnce(f, 'channel', key, asNonBlankString(key, value, issues), issues);
        f.present |= Present.Channel;
        break;
      case K.MessageId:
        setOnce(f, 'messageId', key, asNonBlankString(key, value, issues), issues);
        f.present |= Present.MessageId;
        break;
      case K.ObjectType:
        setOnce(f, 'objectType', key, asNonBlankString(key, value, issues), issues);
        f.present |= Present.ObjectType;
        break;
      case K.ObjectId:
        f.objectId ??= {};
        idMapFromKvList(key, value, f.objectId, issues);
        f.present |= Present.ObjectId;
        break;
      case K.SubjectType:
        setOnce(f, 'subjectType', key, asNonBlankString(key, value, issues), issues);
        f.present |= Present.SubjectType;
        break;
      case K.SubjectRole:
        setOnce(f, 'subjectRole', key, asNonBlankString(key, value, issues), issues);
        f.present |= Present.SubjectRole;
        break;
      case K.SubjectId:
        f.subjectId ??= {};
        idMapFromKvList(key, value, f.subjectId, issues);
        f.present |= Present.SubjectId;
        break;
      case K.Subjects:
        readStructuredSubjects(f, value, issues);
        f.present |= Present.Subjects;
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
        f.present |= Present.AttachmentIds;
        break;
      case K.AttachmentNames:
        setOnce(f, 'attachmentNames', key, asStringArray(key, value, issues), issues);
        f.present |= Present.AttachmentNames;
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

/** `audit.attribute.<name>.<suffix>`: the name may contain dots, so the suffix is split off at the last one. */
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

function entryFor(fields: Fields, name: string): AttributeEntry {
  fields.entries ??= new Map();
  let entry = fields.entries.get(name);
  if (entry === undefined) {
    entry = { name, item: -1, suffixes: 0, blank: 0 };
    fields.entries.set(name, entry);
  }
  return entry;
}

function readIdOrCustom(fields: Fields, key: string, value: AnyValue, issues: Issues): boolean {
  if (key.startsWith(Attr.ObjectIdPrefix)) {
    fields.objectId ??= {};
    putId(fields.objectId, StructuredAttr.ObjectId, key.slice(Attr.ObjectIdPrefix.length), value, issues);
    fields.present |= Present.ObjectId;
    return true;
  }
  if (key.startsWith(Attr.DataSubjectIdPrefix)) {
    fields.subjectId ??= {};
    putId(fields.subjectId, StructuredAttr.DataSubjectId, key.slice(Attr.DataSubjectIdPrefix.length), value, issues);
    fields.present |= Present.SubjectId;
    return true;
  }
  if (key.startsWith(Attr.CustomPrefix)) {
    const k = key.slice(Attr.CustomPrefix.length);
    const s = asString(key, value, issues);
    if (s === undefined) return true;
    fields.customDetails ??= {};
    if (k === '') issues.add(key, 'key must not be empty');
    else if (Object.prototype.hasOwnProperty.call(fields.customDetails, k)) issues.add(key, 'given more than once');
    else setOwn(fields.customDetails, k, s);
    return true;
  }
  return false;
}
