/** What one pass over a record's attributes collects, in either form, before the kind's rules apply. */

import { anyValueTypeName, setOwn, type AnyValue, type JsonValue } from './any-value.js';
import { asString } from './coerce.js';
import type { Issues } from './issues.js';
import { Attr, AttributeSuffix, StructuredAttr } from './names.js';
import type { IdMap, SapDataSubject } from './sap-message.js';

/** One audited attribute (`audit.attribute.<name>.*` or an item of `audit.attributes`). */
export interface AttributeEntry {
  readonly name: string;
  /** Index in `audit.attributes` for the structured form, -1 for the flattened form (to name fields in errors). */
  readonly item: number;
  /** The first suffix seen, to name a stray entry in errors. */
  firstSuffix?: string;
  /** {@link SUFFIX_BITS} of the fields given. */
  suffixes: number;
  /** {@link SUFFIX_BITS} of the {@link NON_BLANK_SUFFIXES} fields given blank. */
  blank: number;
  old?: string;
  new?: string;
  successful?: boolean;
  value?: string;
}

/** The fields of an entry, in the order their problems are reported; bit `1 << i` in {@link SUFFIX_BITS}. */
export const ENTRY_SUFFIXES: readonly AttributeSuffix[] = Object.freeze([
  AttributeSuffix.Old,
  AttributeSuffix.New,
  AttributeSuffix.Successful,
  AttributeSuffix.Value,
]);

/** One bit per entry field, so that checking an entry against its kind's suffixes is a few bit operations. */
export const SUFFIX_BITS: Readonly<Record<AttributeSuffix, number>> = Object.freeze({
  old: 1 << 0,
  new: 1 << 1,
  successful: 1 << 2,
  value: 1 << 3,
});

/** The {@link SUFFIX_BITS} of a list of suffixes. */
export function suffixBits(suffixes: readonly AttributeSuffix[]): number {
  let bits = 0;
  for (const s of suffixes) bits |= SUFFIX_BITS[s];
  return bits;
}

/**
 * Fields that must not be blank: `old` and `new` may be empty strings (the value was empty), a
 * security attribute's `value` must say something.
 */
export const NON_BLANK_SUFFIXES = SUFFIX_BITS.value;

/**
 * Keys whose use depends on the event kind, one bit each in `Fields.present`, in the order their
 * "not used by" issues are reported. The flattened and structured forms of a key share its bit.
 */
export const PRESENT_KEYS: readonly string[] = Object.freeze([
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
]);

const bit = (key: string): number => 1 << PRESENT_KEYS.indexOf(key);

/** The bit of each kind-dependent key in `Fields.present`. */
export const Present = Object.freeze({
  IdentityProvider: bit(Attr.IdentityProvider),
  Channel: bit(Attr.Channel),
  MessageId: bit(Attr.MessageId),
  ObjectType: bit(Attr.ObjectType),
  ObjectId: bit(StructuredAttr.ObjectId),
  SubjectType: bit(Attr.DataSubjectType),
  SubjectRole: bit(Attr.DataSubjectRole),
  SubjectId: bit(StructuredAttr.DataSubjectId),
  Subjects: bit(StructuredAttr.DataSubjects),
  AttachmentIds: bit(Attr.AttachmentIds),
  AttachmentNames: bit(Attr.AttachmentNames),
});

/** Everything one pass over the attributes collects. */
export class Fields {
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
  /** {@link Present} bits of the kind-dependent keys given. */
  present = 0;
}

export function setOnce<K extends keyof Fields>(
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

export function putId(map: IdMap, mapField: string, key: string, value: AnyValue, issues: Issues): void {
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
  setOwn(map, key, s);
}

/** The map has at least one key (without allocating the key list). */
export function hasKeys(map: IdMap | undefined): boolean {
  for (const _key in map) return true;
  return false;
}

export function setEntry(entry: AttributeEntry, suffix: string, value: AnyValue, issues: Issues): void {
  entry.firstSuffix ??= suffix;
  switch (suffix) {
    case AttributeSuffix.Old:
    case AttributeSuffix.New:
    case AttributeSuffix.Value:
      if (typeof value !== 'string') {
        issues.add(entryField(entry, suffix), `must be a string, got ${anyValueTypeName(value)}`);
      } else if (entry[suffix] !== undefined) issues.add(entryField(entry, suffix), 'given more than once');
      else {
        const bit = SUFFIX_BITS[suffix];
        entry[suffix] = value;
        entry.suffixes |= bit;
        if (bit & NON_BLANK_SUFFIXES && value.trim() === '') entry.blank |= bit;
      }
      return;
    case AttributeSuffix.Successful:
      if (typeof value !== 'boolean') {
        issues.add(entryField(entry, suffix), `must be a bool, got ${anyValueTypeName(value)}`);
      } else if (entry.successful !== undefined) issues.add(entryField(entry, suffix), 'given more than once');
      else {
        entry.successful = value;
        entry.suffixes |= SUFFIX_BITS.successful;
      }
      return;
    default:
      issues.add(entryField(entry, suffix), 'unknown attribute field; expected old, new, successful or value');
  }
}

/** The attribute key (or structured path) of an entry's field, for error messages. */
export function entryField(e: AttributeEntry, suffix: string): string {
  return e.item < 0 ? flatEntryField(e.name, suffix) : `${StructuredAttr.Attributes}[${e.item}].${suffix}`;
}

/** The flattened key of a field of the attribute `name`. */
export function flatEntryField(name: string, suffix: string): string {
  return `${Attr.AttributePrefix}${name}.${suffix}`;
}
