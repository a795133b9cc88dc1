import { Attr, StructuredAttr, type ValidationIssue } from '@otel-audit/semconv';

/**
 * Translates the attribute keys semconv reports problems with (`audit.object.type`) into the
 * event fields SDK users wrote (`objectType`), so one rule set serves both vocabularies.
 */
const EXACT: Readonly<Record<string, string>> = {
  [Attr.RecordUid]: 'uuid',
  [Attr.UserId]: 'user',
  [Attr.Tenant]: 'tenant',
  [Attr.TenantSubdomain]: 'tenantSubdomain',
  [Attr.Success]: 'success',
  [Attr.ClientAddress]: 'ip',
  [Attr.IdentityProvider]: 'identityProvider',
  [Attr.Channel]: 'channel',
  [Attr.MessageId]: 'id',
  [Attr.ObjectType]: 'objectType',
  [StructuredAttr.ObjectId]: 'objectId',
  [Attr.DataSubjectType]: 'subjectType',
  [Attr.DataSubjectRole]: 'subjectRole',
  [StructuredAttr.DataSubjectId]: 'subjectId',
  [Attr.AttributeNames]: 'attributes',
  [Attr.AttachmentIds]: 'attachments',
  [Attr.AttachmentNames]: 'attachments',
  [StructuredAttr.CustomDetails]: 'customDetails',
  body: 'data',
};

const PREFIXES: readonly (readonly [string, string])[] = [
  [Attr.ObjectIdPrefix, 'objectId.'],
  [Attr.DataSubjectIdPrefix, 'subjectId.'],
  [Attr.CustomPrefix, 'customDetails.'],
];

const SUFFIX_FIELD: Readonly<Record<string, string>> = {
  old: 'oldValue',
  new: 'newValue',
  successful: 'successful',
  value: 'value',
};

export function sdkFieldName(key: string, attributeNames: readonly string[]): string {
  // Own properties only: a key such as `__proto__` or `constructor` must not find Object's.
  if (Object.hasOwn(EXACT, key)) return EXACT[key]!;
  let m = /^audit\.attribute\.names\[(\d+)\]$/.exec(key);
  if (m) return `attributes[${m[1]!}].name`;
  m = /^audit\.attachment\.(ids|names)\[(\d+)\]$/.exec(key);
  if (m) return `attachments[${m[2]!}].${m[1] === 'ids' ? 'id' : 'name'}`;
  for (const [prefix, field] of PREFIXES) if (key.startsWith(prefix)) return field + key.slice(prefix.length);
  if (key.startsWith(Attr.AttributePrefix)) {
    const dot = key.lastIndexOf('.');
    const name = key.slice(Attr.AttributePrefix.length, dot);
    const i = attributeNames.indexOf(name);
    const last = key.slice(dot + 1);
    const suffix = Object.hasOwn(SUFFIX_FIELD, last) ? SUFFIX_FIELD[last]! : last;
    return i >= 0 ? `attributes[${i}].${suffix}` : `attributes(${name}).${suffix}`;
  }
  return key;
}

export function toSdkIssues(issues: readonly ValidationIssue[], attributeNames: readonly string[]): ValidationIssue[] {
  return issues.map((i) => ({ field: sdkFieldName(i.field, attributeNames), message: i.message }));
}
