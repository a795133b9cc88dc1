import { isUtf8 } from 'node:buffer';
import { Attr, AttributeSuffix, SplunkAttr, StructuredAttr } from '@otel-audit/semconv';

/**
 * What an attribute key means to the fast path, decided once per distinct key (the mapping's
 * `collect` is the reference: every key it reads is here, in the same precedence: exact keys first,
 * then the `audit.*` prefixes). Anything the fast path does not map itself is `Slow`: the record
 * then goes through the reference mapping, which reports or maps it.
 */
export const enum Key {
  /** Not an audit attribute: only its size counts. */
  Other,
  /** Structured forms, unknown `audit.*` keys, Splunk metadata, names the fast path cannot keep in order. */
  Slow,
  Uid,
  User,
  Tenant,
  TenantSubdomain,
  Success,
  ClientAddress,
  IdentityProvider,
  Channel,
  MessageId,
  ObjectType,
  SubjectType,
  SubjectRole,
  AttributeNames,
  AttachmentIds,
  AttachmentNames,
  /** `audit.object.id.<name>` */
  ObjectId,
  /** `audit.data_subject.id.<name>` */
  SubjectId,
  /** `audit.custom.<name>` */
  Custom,
  /** `audit.attribute.<name>.<suffix>` */
  Entry,
}

/** Bits of the entry suffixes, in the order the SAP builders write them (old, new, successful, value). */
export const enum Suffix {
  Old = 1,
  New = 2,
  Successful = 4,
  Value = 8,
}

export const SUFFIX_OF: Readonly<Record<AttributeSuffix, Suffix>> = {
  [AttributeSuffix.Old]: Suffix.Old,
  [AttributeSuffix.New]: Suffix.New,
  [AttributeSuffix.Successful]: Suffix.Successful,
  [AttributeSuffix.Value]: Suffix.Value,
};

export interface KeyInfo {
  readonly key: Key;
  /**
   * For keys with a name in them, in bytes of the UTF-8 key: where the name starts (after the ASCII
   * prefix) and how many bytes after it end the key (the ASCII `.<suffix>` of an entry).
   */
  readonly nameStart: number;
  readonly nameTrim: number;
  /** For `Entry`: the suffix (unused for other keys). */
  readonly suffix: Suffix;
}

const info = (key: Key, nameStart = 0, nameTrim = 0, suffix = Suffix.Old): KeyInfo => ({
  key,
  nameStart,
  nameTrim,
  suffix,
});
const OTHER = info(Key.Other);
const SLOW = info(Key.Slow);

const EXACT = new Map<string, KeyInfo>([
  [Attr.RecordUid, info(Key.Uid)],
  [Attr.UserId, info(Key.User)],
  [Attr.Tenant, info(Key.Tenant)],
  [Attr.TenantSubdomain, info(Key.TenantSubdomain)],
  [Attr.Success, info(Key.Success)],
  [Attr.ClientAddress, info(Key.ClientAddress)],
  [Attr.IdentityProvider, info(Key.IdentityProvider)],
  [Attr.Channel, info(Key.Channel)],
  [Attr.MessageId, info(Key.MessageId)],
  [Attr.ObjectType, info(Key.ObjectType)],
  [Attr.DataSubjectType, info(Key.SubjectType)],
  [Attr.DataSubjectRole, info(Key.SubjectRole)],
  [Attr.AttributeNames, info(Key.AttributeNames)],
  [Attr.AttachmentIds, info(Key.AttachmentIds)],
  [Attr.AttachmentNames, info(Key.AttachmentNames)],
  [StructuredAttr.ObjectId, SLOW],
  [StructuredAttr.DataSubjectId, SLOW],
  [StructuredAttr.DataSubjects, SLOW],
  [StructuredAttr.Attributes, SLOW],
  [StructuredAttr.CustomDetails, SLOW],
  // Record-level Splunk metadata overrides the resource's: rare, left to the reference.
  [SplunkAttr.Source, SLOW],
  [SplunkAttr.Sourcetype, SLOW],
  [SplunkAttr.Index, SLOW],
  [SplunkAttr.Host, SLOW],
]);

/**
 * A name that keeps its place in a JSON object: not empty, not all digits (JavaScript puts
 * integer-like keys first), and not `__proto__` (a plain object does not keep it as a key).
 */
function orderedName(name: string): boolean {
  return name !== '' && !/^[0-9]+$/.test(name) && name !== '__proto__';
}

function named(key: Key, k: string, prefix: string): KeyInfo {
  return orderedName(k.slice(prefix.length)) ? info(key, prefix.length) : SLOW;
}

function classify(k: string): KeyInfo {
  const exact = EXACT.get(k);
  if (exact !== undefined) return exact;
  if (!k.startsWith('audit.')) return OTHER;
  if (k.startsWith(Attr.AttributePrefix)) {
    const dot = k.lastIndexOf('.');
    if (dot <= Attr.AttributePrefix.length) return SLOW;
    const suffix = SUFFIX_OF[k.slice(dot + 1) as AttributeSuffix] as Suffix | undefined;
    return suffix === undefined ? SLOW : info(Key.Entry, Attr.AttributePrefix.length, k.length - dot, suffix);
  }
  if (k.startsWith(Attr.ObjectIdPrefix)) return named(Key.ObjectId, k, Attr.ObjectIdPrefix);
  if (k.startsWith(Attr.DataSubjectIdPrefix)) return named(Key.SubjectId, k, Attr.DataSubjectIdPrefix);
  if (k.startsWith(Attr.CustomPrefix)) return named(Key.Custom, k, Attr.CustomPrefix);
  return SLOW;
}

const MAX_CACHED = 4096;
const MAX_CACHED_LENGTH = 128;
let cached = 0;

/** A key's bytes (a copy) and what it means. */
interface KnownKey {
  readonly bytes: Buffer;
  readonly info: KeyInfo;
}

const cache = new Map<number, KnownKey[]>();

/**
 * The attribute key `buf[start, end)` (UTF-8) and its meaning. Keys repeat from record to record,
 * so each distinct key is decoded and classified once, then found by its bytes (a key that is not
 * well-formed UTF-8 is left to the reference decoder). Undefined for keys not kept (too long, too
 * many): classify those each time.
 */
function knownKeyAt(buf: Buffer, start: number, end: number): KnownKey | undefined {
  const len = end - start;
  if (len === 0) return EMPTY;
  if (len > MAX_CACHED_LENGTH) return undefined;
  // A cheap bucket hash (length and a few sample bytes); a byte compare decides.
  const h =
    len | (buf[end - 1]! << 8) | (buf[end - 2 < start ? start : end - 2]! << 16) | (buf[start + (len >> 1)]! << 24);
  const bucket = cache.get(h);
  if (bucket !== undefined) {
    for (const e of bucket) if (sameKey(e.bytes, buf, start, end)) return e;
  }
  if (cached >= MAX_CACHED) return undefined;
  const entry = { bytes: Buffer.from(buf.subarray(start, end)), info: classifyBytes(buf, start, end) };
  if (bucket === undefined) cache.set(h, [entry]);
  else bucket.push(entry);
  cached++;
  return entry;
}

const EMPTY: KnownKey = { bytes: Buffer.alloc(0), info: OTHER };

function sameKey(bytes: Buffer, buf: Buffer, start: number, end: number): boolean {
  const len = end - start;
  if (bytes.length !== len) return false;
  for (let i = 0; i < len; i++) if (bytes[i] !== buf[start + i]) return false;
  return true;
}

/**
 * The keys of the last record of one kind, by position: records of a kind from one application
 * list their attributes in the same order, so the key at a position is mostly the one there before
 * (one byte compare instead of a hash lookup).
 */
export class KeyMemo {
  private readonly keys: (KnownKey | undefined)[] = [];

  infoAt(position: number, buf: Buffer, start: number, end: number): KeyInfo {
    const last = this.keys[position];
    if (last !== undefined && sameKey(last.bytes, buf, start, end)) return last.info;
    const known = knownKeyAt(buf, start, end);
    this.keys[position] = known;
    return known?.info ?? classifyBytes(buf, start, end);
  }
}

function classifyBytes(buf: Buffer, start: number, end: number): KeyInfo {
  const bytes = buf.subarray(start, end);
  return isUtf8(bytes) ? classify(bytes.toString('utf8')) : SLOW;
}
