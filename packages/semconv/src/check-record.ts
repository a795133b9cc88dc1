/** The checks of a record against its kind's rules (the rule table in `event-types.ts`) and the common rules. */

import { isIP } from 'node:net';
import { EVENT_KINDS, type AuditEventKind, type EventKindRules } from './event-types.js';
import { quote, type Issues } from './issues.js';
import { Attr, AttributeSuffix, StructuredAttr, Tenant } from './names.js';
import {
  ENTRY_SUFFIXES,
  entryField,
  flatEntryField,
  hasKeys,
  Present,
  PRESENT_KEYS,
  SUFFIX_BITS,
  suffixBits,
  type AttributeEntry,
  type Fields,
} from './record-fields.js';

const NO_NAMES: readonly string[] = Object.freeze([]);

/** A kind's entry suffixes as {@link SUFFIX_BITS} masks. */
interface EntryMasks {
  readonly allowed: number;
  readonly required: number;
}

function entryMasks(rules: EventKindRules): EntryMasks {
  return { allowed: suffixBits(rules.entries.allowed), required: suffixBits(rules.entries.required) };
}

/** The masks of the table's rows, computed once. */
const ENTRY_MASKS: Readonly<Partial<Record<AuditEventKind, EntryMasks>>> = Object.freeze(
  Object.fromEntries(Object.values(EVENT_KINDS).map((rules) => [rules.kind, entryMasks(rules)])),
);
const WHITESPACE = /\s/;

/**
 * Reports every way the record breaks its kind's rules. `data` is the record's SAP `data` for kinds
 * whose body is data (see `sapDataOf`).
 */
export function checkRecord(rules: EventKindRules, f: Fields, data: string | undefined, issues: Issues): void {
  const unused = f.present & ~acceptedKeys(rules);
  if (unused !== 0) reportUnused(rules, unused, issues);

  if (WHITESPACE.test(f.tenant ?? Tenant.PROVIDER)) {
    issues.add(Attr.Tenant, 'must be $PROVIDER, $SUBSCRIBER or a zone id');
  }
  if (rules.bodyIsData && (data === undefined || data.trim() === '')) {
    issues.add('body', `required for ${rules.name} (it is SAP \`data\`)`);
  }
  if (rules.clientAddress === 'optional' && f.ip !== undefined && isIP(f.ip) === 0) {
    issues.add(Attr.ClientAddress, `${quote(f.ip)} is not a valid IPv4 or IPv6 address`);
  }
  const listed = listedNames(rules, f, issues);
  if (listed !== NO_NAMES) {
    const { allowed, required } = ENTRY_MASKS[rules.kind] ?? entryMasks(rules);
    for (const name of listed) checkEntry(rules, allowed, required, name, f.entries?.get(name), issues);
  }
  if (rules.object === 'required') checkObject(rules, f, issues);
  if (rules.dataSubject === 'required') checkDataSubject(f, issues);
  if (rules.attachments === 'optional') checkAttachments(f, issues);
}

/** The {@link Present} bits of the kind-dependent keys the kind accepts. */
function acceptedKeys(rules: EventKindRules): number {
  let bits = 0;
  if (rules.identityProvider === 'optional') bits |= Present.IdentityProvider;
  if (rules.channel === 'optional') bits |= Present.Channel;
  if (rules.messageId === 'optional') bits |= Present.MessageId;
  if (rules.attachments === 'optional') bits |= Present.AttachmentIds | Present.AttachmentNames;
  if (rules.object !== 'unused') bits |= Present.ObjectType | Present.ObjectId;
  if (rules.dataSubject !== 'unused') {
    bits |= Present.SubjectType | Present.SubjectRole | Present.SubjectId | Present.Subjects;
  }
  return bits;
}

function reportUnused(rules: EventKindRules, unused: number, issues: Issues): void {
  for (let i = 0; i < PRESENT_KEYS.length; i++) {
    if (unused & (1 << i)) issues.add(PRESENT_KEYS[i] as string, `not used by ${rules.name}`);
  }
}

/** The names of `attributes[]`, each once; empty when there are none or they cannot be used. */
function listedNames(rules: EventKindRules, f: Fields, issues: Issues): Iterable<string> {
  if (f.structuredAttributes && f.flatAttributes) {
    issues.add(
      StructuredAttr.Attributes,
      `use either ${StructuredAttr.Attributes} or ${Attr.AttributeNames} with audit.attribute.<name>.*, not both`,
    );
    return NO_NAMES;
  }
  const names = f.attributeNames;
  if (names === undefined || names.length === 0) {
    if (rules.attributeNames === 'required') {
      const namesField = f.structuredAttributes ? StructuredAttr.Attributes : Attr.AttributeNames;
      issues.add(namesField, `at least one attribute is required for ${rules.name}`);
    } else if (f.entries !== undefined && f.entries.size > 0) {
      issues.add(
        Attr.AttributeNames,
        `required when audit.attribute.<name>.${rules.entries.allowed.join('|')} attributes are given`,
      );
    }
    return NO_NAMES;
  }
  if (f.structuredAttributes) return names; // checked item by item while reading
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (name.trim() === '') issues.add(`${Attr.AttributeNames}[${i}]`, 'must not be blank');
    else if (seen.has(name)) issues.add(`${Attr.AttributeNames}[${i}]`, `duplicate attribute name ${quote(name)}`);
    seen.add(name);
  }
  if (f.entries !== undefined) {
    for (const [name, entry] of f.entries) {
      if (!seen.has(name)) {
        issues.add(
          entryField(entry, entry.firstSuffix ?? 'value'),
          `attribute ${quote(name)} is not listed in ${Attr.AttributeNames}`,
        );
      }
    }
  }
  return seen;
}

/**
 * A listed attribute's fields: only the suffixes the kind accepts (`allowed`, {@link SUFFIX_BITS}),
 * every suffix it requires, and none blank that must say something.
 */
function checkEntry(
  rules: EventKindRules,
  allowed: number,
  required: number,
  name: string,
  entry: AttributeEntry | undefined,
  issues: Issues,
): void {
  const given = entry?.suffixes ?? 0;
  if ((given & ~allowed) | ((entry?.blank ?? 0) & allowed) | (required & ~given)) {
    reportEntry(rules, allowed, required, name, entry, issues);
  }
}

function reportEntry(
  rules: EventKindRules,
  allowed: number,
  required: number,
  name: string,
  entry: AttributeEntry | undefined,
  issues: Issues,
): void {
  const given = entry?.suffixes ?? 0;
  for (const suffix of ENTRY_SUFFIXES) {
    const bit = SUFFIX_BITS[suffix];
    if (entry === undefined || !(given & bit)) continue;
    if (!(allowed & bit)) {
      issues.add(entryField(entry, suffix), `not used by ${rules.name} (allowed: ${rules.entries.allowed.join(', ')})`);
    } else if (entry.blank & bit) {
      issues.add(entryField(entry, suffix), 'must not be blank');
    }
  }
  for (const suffix of rules.entries.required) {
    if (given & SUFFIX_BITS[suffix]) continue;
    const field = entry === undefined ? flatEntryField(name, suffix) : entryField(entry, suffix);
    issues.add(field, missingEntryMessage(rules, suffix));
  }
}

function missingEntryMessage(rules: EventKindRules, suffix: AttributeSuffix): string {
  // `{name, value}` pairs are what SAP and its SDKs call security event attributes.
  return suffix === AttributeSuffix.Value ? 'required for security event attributes' : `required for ${rules.name}`;
}

function checkObject(rules: EventKindRules, f: Fields, issues: Issues): void {
  if (f.objectType === undefined) issues.required(Attr.ObjectType, `required for ${rules.name}`);
  if (!hasKeys(f.objectId)) {
    issues.add(StructuredAttr.ObjectId, `at least one key is required for ${rules.name} (audit.object.id.<key>)`);
  }
}

/** `data_subject` (flattened form) or `data_subjects` (structured form), not both. */
function checkDataSubject(f: Fields, issues: Issues): void {
  if (f.subjects !== undefined) {
    if (f.subjectType !== undefined || f.subjectRole !== undefined || f.subjectId !== undefined) {
      issues.add(
        StructuredAttr.DataSubjects,
        `use either ${StructuredAttr.DataSubjects} or audit.data_subject.*, not both`,
      );
    }
    return;
  }
  if (f.subjectType === undefined) issues.required(Attr.DataSubjectType, 'required (or give audit.data_subjects)');
  if (!hasKeys(f.subjectId)) {
    issues.add(StructuredAttr.DataSubjectId, 'at least one key is required (audit.data_subject.id.<key>)');
  }
}

function checkAttachments(f: Fields, issues: Issues): void {
  const ids = f.attachmentIds;
  const names = f.attachmentNames;
  if (names !== undefined && ids === undefined) {
    issues.add(Attr.AttachmentIds, `required when ${Attr.AttachmentNames} is given`);
  }
  if (ids === undefined) return;
  if (names !== undefined && names.length !== ids.length) {
    issues.add(Attr.AttachmentNames, `has ${names.length} entries but ${Attr.AttachmentIds} has ${ids.length}`);
  }
  for (let i = 0; i < ids.length; i++) {
    if ((ids[i] as string).trim() === '') issues.add(`${Attr.AttachmentIds}[${i}]`, 'must not be blank');
  }
}
