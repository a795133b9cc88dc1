import { isIP } from 'node:net';
import {
  AUDIT_EVENT_TYPES,
  AttributeSuffix,
  Tenant,
  USER_FROM_TOKEN,
  type AuditEventName,
  type AuditEventType,
} from '@otel-audit/semconv';
import { KeyMemo, Suffix, SUFFIX_OF } from './attribute-keys.js';
import { hasNonSpace, hasSpace, type JsonWriter } from './json-writer.js';
import { E, F, P, sameBytes, V, type Ranges, type RecordScan, validUtf8 } from './record-scan.js';

/**
 * One row of the semconv rule table (`AUDIT_EVENT_TYPES`) compiled for the fast path: which
 * kind-dependent keys it takes, the entry suffixes it allows and requires, and the constant parts
 * of its local record.
 */
export interface KindPlan {
  readonly rules: AuditEventType;
  readonly name: AuditEventName;
  readonly nameBytes: Buffer;
  /** {@link P} bits of the keys the kind accepts. */
  readonly accepted: number;
  readonly allowed: number;
  readonly required: number;
  /** `,"category":"<category>","tenant":` */
  readonly category: Buffer;
  /** The attribute keys of this kind's last record. */
  readonly keys: KeyMemo;
}

function suffixBits(suffixes: readonly AttributeSuffix[]): number {
  let bits = 0;
  for (const s of suffixes) bits |= SUFFIX_OF[s];
  return bits;
}

function plan(rules: AuditEventType): KindPlan {
  let accepted = 0;
  if (rules.identityProvider === 'optional') accepted |= P.IdentityProvider;
  if (rules.channel === 'optional') accepted |= P.Channel;
  if (rules.messageId === 'optional') accepted |= P.MessageId;
  if (rules.attachments === 'optional') accepted |= P.Attachments;
  if (rules.object !== 'unused') accepted |= P.Object;
  if (rules.dataSubject !== 'unused') accepted |= P.Subject;
  return {
    rules,
    name: rules.name,
    nameBytes: Buffer.from(rules.name),
    accepted,
    allowed: suffixBits(rules.entries.allowed),
    required: suffixBits(rules.entries.required),
    category: Buffer.from(`,"category":"${rules.sapCategory}","tenant":`),
    keys: new KeyMemo(),
  };
}

const PLANS: readonly KindPlan[] = Object.values(AUDIT_EVENT_TYPES).map(plan);
const AUDIT_PREFIX = Buffer.from('audit.');

/** The plan of the event name at `buf[start, end)`; undefined when it is not one of the six. */
export function planOf(buf: Buffer, start: number, end: number): KindPlan | undefined {
  const len = end - start;
  for (const p of PLANS) {
    const n = p.nameBytes;
    if (n.length !== len) continue;
    let i = 0;
    while (i < len && n[i] === buf[start + i]) i++;
    if (i === len) return p;
  }
  return undefined;
}

/** Whether the event name at `buf[start, end)` starts with `audit.` (an audit event, known or not). */
export function isAuditEventName(buf: Buffer, start: number, end: number): boolean {
  return end - start >= AUDIT_PREFIX.length && buf.compare(AUDIT_PREFIX, 0, 6, start, start + 6) === 0;
}

const c = (s: string): Buffer => Buffer.from(s);
const UUID_OPEN = c('{"message_uuid":');
const TIME = c(',"time":"');
const QUOTE = c('"');
const PROVIDER = c(JSON.stringify(Tenant.PROVIDER));
const USER = c(',"user":');
const DEFAULT_USER = c(JSON.stringify(USER_FROM_TOKEN));
const SUCCESS_TRUE = c(',"success":true');
const SUCCESS_FALSE = c(',"success":false');
/** From format_version to the message's uuid, by `success` (absent, false, true): one copy instead of three. */
const FORMAT_TO_MESSAGE: readonly Buffer[] = ['', ',"success":false', ',"success":true'].map((success) =>
  c(`,"format_version":"2"${success},"message":{"uuid":`),
);
const M_TIME = c(',"time":');
const M_TENANT = c(',"tenant":');
const DATA = c(',"data":');
const IP = c(',"ip":');
const IDP = c(',"identityProvider":');
const ATTRIBUTES = c(',"attributes":[');
const NAME = c('{"name":');
const OLD = c(',"old":');
const NEW = c(',"new":');
const SUCCESSFUL_TRUE = c(',"successful":true');
const SUCCESSFUL_FALSE = c(',"successful":false');
const VALUE = c(',"value":');
const OBJECT = c(',"object":{"type":');
const ID_OPEN = c(',"id":{');
const SUBJECT = c(',"data_subject":{"type":');
const ROLE = c(',"role":');
const CHANNEL = c(',"channel":');
const ATTACHMENTS = c(',"attachments":[');
const ATTACHMENT_ID = c('{"id":');
const ATTACHMENT_NAME = c(',"name":');
const MESSAGE_ID = c(',"id":');
const CUSTOM = c(',"customDetails":{');
const RESOURCE = c('},"resource":');

/**
 * The checks of the mapping (semconv `checkRecord` and the builders' preconditions) that the scan
 * has not made already, for the flattened form it reads. True only when the reference mapping
 * would accept the record; any doubt returns false and the reference decides.
 */
export function passes(s: RecordScan, p: KindPlan): boolean {
  const buf = s.buf;
  const str = s.str;
  const rules = p.rules;
  if (!isUuidAt(buf, str[2 * F.Uid]!, str[2 * F.Uid + 1]!)) return false;
  if ((s.present & ~p.accepted) !== 0) return false;
  const tenant = str[2 * F.Tenant]!;
  if (tenant >= 0 && hasSpace(buf, tenant, str[2 * F.Tenant + 1]!)) return false;
  const subdomain = str[2 * F.TenantSubdomain]!;
  if (subdomain >= 0 && !isSubdomainAt(buf, subdomain, str[2 * F.TenantSubdomain + 1]!)) return false;
  if (rules.bodyIsData) {
    if (s.bodyType !== V.Str || !hasNonSpace(buf, s.bodyStart, s.bodyEnd)) return false;
  } else if (s.bodyType === V.Str && !validUtf8(buf, s.bodyStart, s.bodyEnd)) {
    // Not written, but the text rule holds for every string of the record (semconv text.ts).
    return false;
  }
  const ip = str[2 * F.ClientAddress]!;
  if (ip >= 0) {
    const ipEnd = str[2 * F.ClientAddress + 1]!;
    // Written only where the kind has it, but well-formed text is required everywhere.
    if (rules.clientAddress === 'optional' ? isIP(buf.toString('utf8', ip, ipEnd)) === 0 : !validUtf8(buf, ip, ipEnd))
      return false;
  }
  if (!namesPass(s, p)) return false;
  if (rules.object === 'required' && (str[2 * F.ObjectType]! < 0 || s.objectIds.count === 0)) return false;
  if (rules.dataSubject === 'required' && (str[2 * F.SubjectType]! < 0 || s.subjectIds.count === 0)) return false;
  if (s.attachmentNamesGiven && !s.attachmentIdsGiven) return false;
  if (s.attachmentIdsGiven) {
    const ids = s.attachmentIds;
    if (s.attachmentNamesGiven && s.attachmentNames.count !== ids.count) return false;
    for (let i = 0; i < ids.count; i++) if (!hasNonSpace(buf, ids.at[2 * i]!, ids.at[2 * i + 1]!)) return false;
  }
  return true;
}

/** `audit.attribute.names` and the entries: listed, each name once and not blank, suffixes as the kind wants. */
function namesPass(s: RecordScan, p: KindPlan): boolean {
  const buf = s.buf;
  const names = s.names;
  const entries = s.entries;
  if (!s.namesGiven || names.count === 0) return p.rules.attributeNames !== 'required' && entries.count === 0;
  const at = names.at;
  for (let i = 0; i < names.count; i++) {
    const start = at[2 * i]!;
    const end = at[2 * i + 1]!;
    if (!hasNonSpace(buf, start, end)) return false;
    for (let j = 0; j < i; j++) if (sameBytes(buf, at[2 * j]!, at[2 * j + 1]!, start, end)) return false;
    const entry = entryOf(s, start, end);
    const given = entry < 0 ? 0 : entries.at[entry + E.Suffixes]!;
    if ((given & ~p.allowed) !== 0 || (p.required & ~given) !== 0) return false;
  }
  // Every entry is listed.
  for (let k = 0; k < entries.count; k++) {
    const start = entries.at[k * E.Stride + E.NameStart]!;
    const end = entries.at[k * E.Stride + E.NameEnd]!;
    let listed = false;
    for (let i = 0; i < names.count && !listed; i++) listed = sameBytes(buf, at[2 * i]!, at[2 * i + 1]!, start, end);
    if (!listed) return false;
  }
  return true;
}

/** The offset of the entry named `buf[start, end)` in `s.entries.at`, or -1. */
function entryOf(s: RecordScan, start: number, end: number): number {
  const entries = s.entries;
  for (let k = 0; k < entries.count; k++) {
    const j = k * E.Stride;
    if (sameBytes(s.buf, entries.at[j + E.NameStart]!, entries.at[j + E.NameEnd]!, start, end)) return j;
  }
  return -1;
}

/**
 * Writes the local record (model/local-record.ts, with the SAP message of `rules.buildMessage` in
 * it) of a record that {@link passes}, byte for byte as `localRecordJson(mapAuditRecord(...))` would.
 * False when a string is not valid UTF-8 (the output is then to be dropped).
 */
export function writeLocalRecord(
  w: JsonWriter,
  s: RecordScan,
  p: KindPlan,
  eventTime: number,
  resourceJson: Buffer,
): boolean {
  const buf = s.buf;
  const str = s.str;
  const rules = p.rules;
  w.bytes(UUID_OPEN);
  const uuidStart = w.pos;
  if (!w.string(buf, str[2 * F.Uid]!, str[2 * F.Uid + 1]!)) return false;
  const uuidEnd = w.pos;
  w.bytes(TIME);
  const timeStart = w.pos - 1;
  writeSapTime(w, eventTime);
  w.bytes(QUOTE);
  const timeEnd = w.pos;
  w.bytes(p.category);
  const tenantStart = w.pos;
  if (str[2 * F.Tenant]! < 0) w.bytes(PROVIDER);
  else if (!w.string(buf, str[2 * F.Tenant]!, str[2 * F.Tenant + 1]!)) return false;
  const tenantEnd = w.pos;
  w.bytes(USER);
  const userStart = w.pos;
  if (str[2 * F.User]! < 0) w.bytes(DEFAULT_USER);
  else if (!w.string(buf, str[2 * F.User]!, str[2 * F.User + 1]!)) return false;
  const userEnd = w.pos;
  w.bytes(FORMAT_TO_MESSAGE[s.success + 1]!);

  // The SAP message, in SAP's field order (semconv build-message.ts).
  w.repeat(uuidStart, uuidEnd);
  w.bytes(USER);
  w.repeat(userStart, userEnd);
  w.bytes(M_TIME);
  w.repeat(timeStart, timeEnd);
  w.bytes(M_TENANT);
  w.repeat(tenantStart, tenantEnd);
  if (rules.bodyIsData) {
    w.bytes(DATA);
    if (!w.string(buf, s.bodyStart, s.bodyEnd)) return false;
  }
  if (rules.clientAddress === 'optional' && !optional(w, s, F.ClientAddress, IP)) return false;
  if (rules.identityProvider === 'optional' && !optional(w, s, F.IdentityProvider, IDP)) return false;
  if (s.names.count > 0 && !writeAttributes(w, s)) return false;
  if (rules.object === 'required') {
    w.bytes(OBJECT);
    if (!w.string(buf, str[2 * F.ObjectType]!, str[2 * F.ObjectType + 1]!)) return false;
    if (!writeIdMap(w, buf, ID_OPEN, s.objectIds)) return false;
    w.byte(0x7d);
  }
  if (rules.dataSubject === 'required') {
    w.bytes(SUBJECT);
    if (!w.string(buf, str[2 * F.SubjectType]!, str[2 * F.SubjectType + 1]!)) return false;
    if (!optional(w, s, F.SubjectRole, ROLE)) return false;
    if (!writeIdMap(w, buf, ID_OPEN, s.subjectIds)) return false;
    w.byte(0x7d);
  }
  if (rules.channel === 'optional' && !optional(w, s, F.Channel, CHANNEL)) return false;
  if (rules.attachments === 'optional' && s.attachmentIdsGiven && !writeAttachments(w, s)) return false;
  if (rules.messageId === 'optional' && !optional(w, s, F.MessageId, MESSAGE_ID)) return false;
  if (rules.successInBody && s.success >= 0) w.bytes(s.success === 1 ? SUCCESS_TRUE : SUCCESS_FALSE);
  if (s.customs.count > 0 && !writeIdMap(w, buf, CUSTOM, s.customs)) return false;
  w.bytes(RESOURCE);
  w.bytes(resourceJson);
  w.byte(0x7d);
  return true;
}

/** `,"<name>":<value>` when the field is present. */
function optional(w: JsonWriter, s: RecordScan, f: F, name: Buffer): boolean {
  const start = s.str[2 * f]!;
  if (start < 0) return true;
  w.bytes(name);
  return w.string(s.buf, start, s.str[2 * f + 1]!);
}

/** `attributes[]` in the order of the names, each with the suffixes given (in SUFFIX order). */
function writeAttributes(w: JsonWriter, s: RecordScan): boolean {
  const buf = s.buf;
  const names = s.names;
  const at = s.entries.at;
  w.bytes(ATTRIBUTES);
  for (let i = 0; i < names.count; i++) {
    if (i > 0) w.byte(0x2c);
    const start = names.at[2 * i]!;
    const end = names.at[2 * i + 1]!;
    w.bytes(NAME);
    if (!w.string(buf, start, end)) return false;
    const j = entryOf(s, start, end);
    const given = j < 0 ? 0 : at[j + E.Suffixes]!;
    if (given & Suffix.Old) {
      w.bytes(OLD);
      if (!w.string(buf, at[j + E.OldStart]!, at[j + E.OldEnd]!)) return false;
    }
    if (given & Suffix.New) {
      w.bytes(NEW);
      if (!w.string(buf, at[j + E.NewStart]!, at[j + E.NewEnd]!)) return false;
    }
    if (given & Suffix.Successful) w.bytes(at[j + E.Successful] === 1 ? SUCCESSFUL_TRUE : SUCCESSFUL_FALSE);
    if (given & Suffix.Value) {
      w.bytes(VALUE);
      if (!w.string(buf, at[j + E.ValueStart]!, at[j + E.ValueEnd]!)) return false;
    }
    w.byte(0x7d);
  }
  w.byte(0x5d);
  return true;
}

/** `<open>"k":"v",...}`: an id map or customDetails, keys in the order given. */
function writeIdMap(w: JsonWriter, buf: Buffer, open: Buffer, list: Ranges): boolean {
  w.bytes(open);
  const at = list.at;
  for (let i = 0; i < list.count; i++) {
    if (i > 0) w.byte(0x2c);
    if (!w.string(buf, at[4 * i]!, at[4 * i + 1]!)) return false;
    w.byte(0x3a);
    if (!w.string(buf, at[4 * i + 2]!, at[4 * i + 3]!)) return false;
  }
  w.byte(0x7d);
  return true;
}

function writeAttachments(w: JsonWriter, s: RecordScan): boolean {
  const buf = s.buf;
  const ids = s.attachmentIds.at;
  const names = s.attachmentNamesGiven ? s.attachmentNames.at : undefined;
  w.bytes(ATTACHMENTS);
  for (let i = 0; i < s.attachmentIds.count; i++) {
    if (i > 0) w.byte(0x2c);
    w.bytes(ATTACHMENT_ID);
    if (!w.string(buf, ids[2 * i]!, ids[2 * i + 1]!)) return false;
    // An empty name is left out, as the SAP builder does.
    if (names !== undefined && names[2 * i + 1]! > names[2 * i]!) {
      w.bytes(ATTACHMENT_NAME);
      if (!w.string(buf, names[2 * i]!, names[2 * i + 1]!)) return false;
    }
    w.byte(0x7d);
  }
  w.byte(0x5d);
  return true;
}

/** 1 for the bytes of hex digits, either case. */
const HEX_DIGIT = new Uint8Array(256);
for (const c of Buffer.from('0123456789abcdefABCDEF')) HEX_DIGIT[c] = 1;

/** semconv `isUuid` on bytes (8-4-4-4-12 hex digits, either case). */
function isUuidAt(buf: Buffer, start: number, end: number): boolean {
  if (start < 0 || end - start !== 36) return false;
  if (buf[start + 8] !== 0x2d || buf[start + 13] !== 0x2d || buf[start + 18] !== 0x2d || buf[start + 23] !== 0x2d)
    return false;
  for (let i = 0; i < 36; i++) {
    if (HEX_DIGIT[buf[start + i]!] === 0 && i !== 8 && i !== 13 && i !== 18 && i !== 23) return false;
  }
  return true;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** semconv `isSubdomain` on bytes (one DNS label: letters, digits, inner dashes, 1 to 63 characters). */
function isSubdomainAt(buf: Buffer, start: number, end: number): boolean {
  const n = end - start;
  if (n < 1 || n > 63 || !isAlnum(buf[start]!) || !isAlnum(buf[end - 1]!)) return false;
  for (let i = start + 1; i < end - 1; i++) if (!isAlnum(buf[i]!) && buf[i] !== 0x2d) return false;
  return true;
}

let cachedSecond = NaN;
const cachedPrefix = Buffer.alloc(20);

/** semconv `formatSapTime`, written as bytes (the date part cached per second, as there). */
function writeSapTime(w: JsonWriter, ms: number): void {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(ms).toISOString();
    if (iso.length !== 24) {
      w.ascii(iso);
      return;
    }
    cachedSecond = second;
    cachedPrefix.write(iso, 0, 20, 'latin1');
  }
  w.bytes(cachedPrefix);
  const frac = ms - second * 1000;
  w.ensure(4);
  const b = w.buf;
  let p = w.pos;
  b[p++] = 0x30 + Math.floor(frac / 100);
  b[p++] = 0x30 + (Math.floor(frac / 10) % 10);
  b[p++] = 0x30 + (frac % 10);
  b[p++] = 0x5a;
  w.pos = p;
}
