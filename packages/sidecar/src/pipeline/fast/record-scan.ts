import type { DecodeLimits, RecordLimits } from '../../model/limits.js';
import { Key, Suffix, type KeyMemo } from './attribute-keys.js';
import { hasNonSpace, utf8Length } from './json-writer.js';

/** The type of an AnyValue as the scan sees it. */
export const enum V {
  Null,
  Str,
  Bool,
  Int,
  Double,
  Array,
  /** kvlists, and values the scan does not take apart (several fields, unknown fields). */
  Other,
  Bytes,
}

/** String fields of a record, each kept as `[start, end)` in the body (`start` -1: absent). */
export const enum F {
  Uid,
  User,
  Tenant,
  TenantSubdomain,
  ClientAddress,
  IdentityProvider,
  Channel,
  MessageId,
  ObjectType,
  SubjectType,
  SubjectRole,
  Count,
}

/** Keys whose use depends on the event kind (the mapping's `present` bits, grouped by rule). */
export const enum P {
  IdentityProvider = 1,
  Channel = 2,
  MessageId = 4,
  Attachments = 8,
  Object = 16,
  Subject = 32,
}

/** The {@link P} bit of each key (0: none), by {@link Key}. */
const PRESENT_OF: readonly number[] = (() => {
  const bits = new Array<number>(Key.Entry + 1).fill(0);
  bits[Key.IdentityProvider] = P.IdentityProvider;
  bits[Key.Channel] = P.Channel;
  bits[Key.MessageId] = P.MessageId;
  bits[Key.AttachmentIds] = bits[Key.AttachmentNames] = P.Attachments;
  bits[Key.ObjectType] = bits[Key.ObjectId] = P.Object;
  bits[Key.SubjectType] = bits[Key.SubjectRole] = bits[Key.SubjectId] = P.Subject;
  return bits;
})();

/** The string field of each key that has one, by {@link Key}. */
const FIELD_OF: readonly (F | undefined)[] = (() => {
  const fields = new Array<F | undefined>(Key.Entry + 1).fill(undefined);
  fields[Key.Uid] = F.Uid;
  fields[Key.User] = F.User;
  fields[Key.Tenant] = F.Tenant;
  fields[Key.TenantSubdomain] = F.TenantSubdomain;
  fields[Key.ClientAddress] = F.ClientAddress;
  fields[Key.IdentityProvider] = F.IdentityProvider;
  fields[Key.Channel] = F.Channel;
  fields[Key.MessageId] = F.MessageId;
  fields[Key.ObjectType] = F.ObjectType;
  fields[Key.SubjectType] = F.SubjectType;
  fields[Key.SubjectRole] = F.SubjectRole;
  return fields;
})();

/**
 * 1 for the string fields that must not be blank (`asNonBlankString`), by {@link F}; client.address
 * may be (it fails the IP check).
 */
const NON_BLANK: Uint8Array = (() => {
  const flags = new Uint8Array(F.Count).fill(1);
  flags[F.ClientAddress] = 0;
  return flags;
})();

/** Most attributes (and list items) a record may have for the fast path; records with more take the reference path. */
export const MAX_ATTRIBUTES = 128;
const MAX_ITEMS = 32;

/** A list of `[start, end)` string ranges in the body (array items, names, ...), `stride` numbers per item. */
export class Ranges {
  readonly at: Int32Array;
  count = 0;
  constructor(readonly stride: number) {
    this.at = new Int32Array(stride * MAX_ITEMS);
  }
}

/** Entry numbers: name start/end, suffix bits, then `[start, end)` of old, new and value, and successful (0/1). */
export const enum E {
  NameStart,
  NameEnd,
  Suffixes,
  OldStart,
  OldEnd,
  NewStart,
  NewEnd,
  ValueStart,
  ValueEnd,
  Successful,
  Stride,
}

/**
 * One pass over a binary LogRecord that keeps only offsets into the request body: the fields the
 * local record needs, each attribute value's type and place. Nothing is decoded into objects; the
 * scratch arrays are reused record after record. `scan` returns false as soon as the record holds
 * anything the fast path leaves to the reference decoder and mapping (unusual encodings, nested
 * values, keys it does not map itself, duplicates, values over the limits): it then decides.
 */
export class RecordScan {
  buf!: Buffer;
  timeLo = 0;
  timeHi = 0;
  observedLo = 0;
  observedHi = 0;
  eventStart = -1;
  eventEnd = -1;
  bodyType = V.Null;
  bodyStart = 0;
  bodyEnd = 0;
  private attributeCount = 0;
  private readonly attributeStart = new Int32Array(MAX_ATTRIBUTES);
  private readonly attributeEnd = new Int32Array(MAX_ATTRIBUTES);

  /** F.* → start, end. */
  readonly str = new Int32Array(F.Count * 2);
  /** -1 unset, 0 false, 1 true. */
  success = -1;
  present = 0;
  namesGiven = false;
  readonly names = new Ranges(2);
  attachmentIdsGiven = false;
  readonly attachmentIds = new Ranges(2);
  attachmentNamesGiven = false;
  readonly attachmentNames = new Ranges(2);
  /** name start/end, value start/end */
  readonly objectIds = new Ranges(4);
  readonly subjectIds = new Ranges(4);
  readonly customs = new Ranges(4);
  readonly entries = new Ranges(E.Stride);

  // The key and value of the attribute being read.
  private keyStart = 0;
  private vType = V.Null;
  private vStart = 0;
  private vEnd = 0;
  private vBool = 0;

  constructor(
    private readonly maxValueBytes: number,
    private readonly maxAttributes: number,
    /** Arrays as attribute values are within the nesting limit. */
    private readonly arraysAllowed: boolean,
  ) {}

  /** Made for these limits (the scratch state is reused while they stay the same). */
  fits(decodeLimits: DecodeLimits, limits: RecordLimits): boolean {
    return (
      this.maxValueBytes === limits.maxValueLength &&
      this.maxAttributes === Math.min(limits.maxAttributes, MAX_ATTRIBUTES) &&
      this.arraysAllowed === decodeLimits.maxDepth >= 1
    );
  }

  /** The record's top-level fields; false: leave the record to the reference path. */
  fields(buf: Buffer, start: number, end: number): boolean {
    this.buf = buf;
    this.timeLo = this.timeHi = this.observedLo = this.observedHi = 0;
    this.eventStart = this.eventEnd = -1;
    this.bodyType = V.Null;
    this.attributeCount = 0;
    let bodySeen = false;
    let pos = start;
    while (pos < end) {
      const tag = buf[pos++]!;
      switch (tag) {
        case 0x09: // 1 time_unix_nano, fixed64
        case 0x59: // 11 observed_time_unix_nano
          if (pos + 8 > end) return false;
          if (tag === 0x09) {
            this.timeLo = buf.readUInt32LE(pos);
            this.timeHi = buf.readUInt32LE(pos + 4);
          } else {
            this.observedLo = buf.readUInt32LE(pos);
            this.observedHi = buf.readUInt32LE(pos + 4);
          }
          pos += 8;
          break;
        case 0x10: // 2 severity_number
        case 0x38: // 7 dropped_attributes_count
          pos = skipShortVarint(buf, pos, end);
          if (pos < 0) return false;
          break;
        case 0x45: // 8 flags, fixed32
          pos += 4;
          if (pos > end) return false;
          break;
        case 0x1a: // 3 severity_text
        case 0x2a: // 5 body
        case 0x32: // 6 attributes
        case 0x4a: // 9 trace_id
        case 0x52: // 10 span_id
        case 0x62: {
          // 12 event_name
          const len = readLength(buf, pos, end);
          if (len < 0) return false;
          pos = next;
          const fieldEnd = pos + len;
          if (fieldEnd > end) return false;
          if (tag === 0x32) {
            if (this.attributeCount >= this.maxAttributes) return false;
            this.attributeStart[this.attributeCount] = pos;
            this.attributeEnd[this.attributeCount++] = fieldEnd;
          } else if (tag === 0x62) {
            if (!validUtf8(buf, pos, fieldEnd)) return false;
            this.eventStart = pos;
            this.eventEnd = fieldEnd;
          } else if (tag === 0x2a) {
            if (bodySeen || !this.value(pos, fieldEnd)) return false;
            bodySeen = true;
            this.bodyType = this.vType;
            this.bodyStart = this.vStart;
            this.bodyEnd = this.vEnd;
            if (!this.withinLimits()) return false;
          } else if (tag === 0x1a) {
            if (!validUtf8(buf, pos, fieldEnd)) return false;
          }
          pos = fieldEnd;
          break;
        }
        default:
          return false;
      }
    }
    return true;
  }

  /** Checks every attribute (well formed, within the limits) without reading what it means (records that are not audit events). */
  attributesOnly(): boolean {
    for (let i = 0; i < this.attributeCount; i++) {
      const keyEnd = this.keyValue(this.attributeStart[i]!, this.attributeEnd[i]!);
      if (keyEnd < 0 || !this.withinLimits()) return false;
      if (this.vType === V.Str && !validUtf8(this.buf, this.vStart, this.vEnd)) return false;
    }
    return true;
  }

  /**
   * Reads the attributes of an audit record into the fields (`keys`: the kind's memo of keys by
   * position); false: leave the record to the reference path.
   */
  attributes(keys: KeyMemo): boolean {
    this.str.fill(-1);
    this.success = -1;
    this.present = 0;
    this.namesGiven = this.attachmentIdsGiven = this.attachmentNamesGiven = false;
    this.names.count = this.attachmentIds.count = this.attachmentNames.count = 0;
    this.objectIds.count = this.subjectIds.count = this.customs.count = this.entries.count = 0;
    const buf = this.buf;
    for (let i = 0; i < this.attributeCount; i++) {
      const start = this.attributeStart[i]!;
      const keyEnd = this.keyValue(start, this.attributeEnd[i]!);
      if (keyEnd < 0 || !this.withinLimits()) return false;
      const keyStart = this.keyStart;
      const k = keys.infoAt(i, buf, keyStart, keyEnd);
      const type = this.vType;
      switch (k.key) {
        case Key.Other:
          if (type === V.Str && !validUtf8(buf, this.vStart, this.vEnd)) return false;
          continue;
        case Key.Slow:
          return false;
        case Key.Success:
          if (type !== V.Bool || this.success >= 0) return false;
          this.success = this.vBool;
          continue;
        case Key.AttributeNames:
          if (this.namesGiven || !this.stringArray(this.names)) return false;
          this.namesGiven = true;
          continue;
        case Key.AttachmentIds:
          if (this.attachmentIdsGiven || !this.stringArray(this.attachmentIds)) return false;
          this.attachmentIdsGiven = true;
          this.present |= P.Attachments;
          continue;
        case Key.AttachmentNames:
          if (this.attachmentNamesGiven || !this.stringArray(this.attachmentNames)) return false;
          this.attachmentNamesGiven = true;
          this.present |= P.Attachments;
          continue;
        case Key.ObjectId:
        case Key.SubjectId:
        case Key.Custom: {
          if (type !== V.Str) return false;
          const list =
            k.key === Key.ObjectId ? this.objectIds : k.key === Key.SubjectId ? this.subjectIds : this.customs;
          if (!this.addNamed(list, keyStart + k.nameStart, keyEnd)) return false;
          this.present |= PRESENT_OF[k.key]!;
          continue;
        }
        case Key.Entry:
          if (!this.addEntry(keyStart + k.nameStart, keyEnd - k.nameTrim, k.suffix)) return false;
          continue;
        default: {
          const f = FIELD_OF[k.key]!;
          if (type !== V.Str || this.str[2 * f]! >= 0) return false;
          if (NON_BLANK[f] === 1 && !hasNonSpace(buf, this.vStart, this.vEnd)) return false;
          this.str[2 * f] = this.vStart;
          this.str[2 * f + 1] = this.vEnd;
          this.present |= PRESENT_OF[k.key]!;
        }
      }
    }
    return true;
  }

  /**
   * Reads the KeyValue at `[start, end)`: where its key starts into `keyStart`, its value into v*;
   * returns the end of the key, -1 if unusual.
   */
  private keyValue(start: number, end: number): number {
    const buf = this.buf;
    if (start >= end || buf[start] !== 0x0a) return -1;
    const len = readLength(buf, start + 1, end);
    if (len < 0) return -1;
    this.keyStart = next;
    const keyEnd = next + len;
    if (keyEnd > end) return -1;
    if (keyEnd === end) {
      this.vType = V.Null;
      return keyEnd;
    }
    if (buf[keyEnd] !== 0x12) return -1;
    const vlen = readLength(buf, keyEnd + 1, end);
    if (vlen < 0 || next + vlen !== end || !this.value(next, end)) return -1;
    return keyEnd;
  }

  /** Reads the AnyValue at `[start, end)` into v*; false if it is not a plain value. */
  private value(start: number, end: number): boolean {
    const buf = this.buf;
    if (start === end) {
      this.vType = V.Null;
      return true;
    }
    const tag = buf[start]!;
    switch (tag) {
      case 0x0a: // string_value
      case 0x2a: // array_value
      case 0x3a: {
        // bytes_value
        const len = readLength(buf, start + 1, end);
        if (len < 0 || next + len !== end) return false;
        this.vType = tag === 0x0a ? V.Str : tag === 0x2a ? V.Array : V.Bytes;
        if (tag === 0x2a && !this.arraysAllowed) return false;
        this.vStart = next;
        this.vEnd = end;
        return true;
      }
      case 0x10: // bool_value
        if (start + 2 !== end || buf[start + 1]! > 1) return false;
        this.vType = V.Bool;
        this.vBool = buf[start + 1]!;
        return true;
      case 0x18: // int_value
        if (skipVarint(buf, start + 1, end) !== end) return false;
        this.vType = V.Int;
        return true;
      case 0x21: // double_value
        if (start + 9 !== end) return false;
        this.vType = V.Double;
        return true;
      default:
        return false;
    }
  }

  /** The value just read is within the size limits (strings in bytes: never fewer than their characters). */
  private withinLimits(): boolean {
    switch (this.vType) {
      case V.Str:
      case V.Bytes:
        return this.vEnd - this.vStart <= this.maxValueBytes;
      case V.Array:
        return this.arrayWithinLimits();
      case V.Other:
        return false;
      default:
        return true;
    }
  }

  /** An array of strings (or other plain values), each within the limits. */
  private arrayWithinLimits(): boolean {
    const buf = this.buf;
    let pos = this.vStart;
    const end = this.vEnd;
    let items = 0;
    while (pos < end) {
      if (buf[pos] !== 0x0a || ++items > MAX_ITEMS) return false;
      const len = readLength(buf, pos + 1, end);
      if (len < 0) return false;
      const itemEnd = next + len;
      if (itemEnd > end) return false;
      // A string item: 0x0a, length, bytes.
      if (itemEnd > next) {
        if (buf[next] !== 0x0a) return false;
        const slen = readLength(buf, next + 1, itemEnd);
        if (slen < 0 || next + slen !== itemEnd || slen > this.maxValueBytes) return false;
        if (!validUtf8(buf, next, itemEnd)) return false;
      } else {
        return false; // an empty AnyValue in an array: leave it to the reference
      }
      pos = itemEnd;
    }
    return true;
  }

  /** The array just read, as string ranges (its items are strings: `withinLimits` checked them). */
  private stringArray(out: Ranges): boolean {
    if (this.vType !== V.Array) return false;
    const buf = this.buf;
    let pos = this.vStart;
    const end = this.vEnd;
    out.count = 0;
    while (pos < end) {
      const itemEnd = readLength(buf, pos + 1, end) + next;
      const length = readLength(buf, next + 1, itemEnd);
      out.at[2 * out.count] = next;
      out.at[2 * out.count + 1] = next + length;
      out.count++;
      pos = itemEnd;
    }
    return true;
  }

  private addNamed(list: Ranges, nameStart: number, nameEnd: number): boolean {
    const buf = this.buf;
    const at = list.at;
    for (let i = 0; i < list.count; i++) {
      if (sameBytes(buf, at[4 * i]!, at[4 * i + 1]!, nameStart, nameEnd)) return false; // given more than once
    }
    if (list.count >= MAX_ITEMS) return false;
    const j = 4 * list.count++;
    at[j] = nameStart;
    at[j + 1] = nameEnd;
    at[j + 2] = this.vStart;
    at[j + 3] = this.vEnd;
    return true;
  }

  private addEntry(nameStart: number, nameEnd: number, suffix: Suffix): boolean {
    const buf = this.buf;
    const list = this.entries;
    const at = list.at;
    let j = -1;
    for (let i = 0; i < list.count; i++) {
      if (sameBytes(buf, at[i * E.Stride + E.NameStart]!, at[i * E.Stride + E.NameEnd]!, nameStart, nameEnd)) {
        j = i * E.Stride;
        break;
      }
    }
    if (j < 0) {
      if (list.count >= MAX_ITEMS) return false;
      j = list.count++ * E.Stride;
      at[j + E.NameStart] = nameStart;
      at[j + E.NameEnd] = nameEnd;
      at[j + E.Suffixes] = 0;
    }
    if (at[j + E.Suffixes]! & suffix) return false; // given more than once
    at[j + E.Suffixes] = at[j + E.Suffixes]! | suffix;
    if (suffix === Suffix.Successful) {
      if (this.vType !== V.Bool) return false;
      at[j + E.Successful] = this.vBool;
      return true;
    }
    if (this.vType !== V.Str) return false;
    const s = suffix === Suffix.Old ? E.OldStart : suffix === Suffix.New ? E.NewStart : E.ValueStart;
    // A security attribute's value must say something; old and new may be empty.
    if (suffix === Suffix.Value && !hasNonSpace(buf, this.vStart, this.vEnd)) return false;
    at[j + s] = this.vStart;
    at[j + s + 1] = this.vEnd;
    return true;
  }
}

export function sameBytes(buf: Buffer, aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  const n = aEnd - aStart;
  if (n !== bEnd - bStart) return false;
  for (let i = 0; i < n; i++) if (buf[aStart + i] !== buf[bStart + i]) return false;
  return true;
}

/** Whether `b[start, end)` is well-formed UTF-8. */
export function validUtf8(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (b[i]! < 0x80) continue;
    const n = utf8Length(b, i, end);
    if (n === 0) return false;
    i += n - 1;
  }
  return true;
}

/** The position after the last varint read by {@link readLength}. */
let next = 0;

/** The position after the last length read by {@link readLength}. */
export function lengthEnd(): number {
  return next;
}

/**
 * A length of at most 4 varint bytes (< 256 MiB), or -1: longer encodings, truncated ones and the
 * rest are left to the reference decoder, which knows how to refuse them.
 */
export function readLength(b: Buffer, pos: number, end: number): number {
  if (pos >= end) return -1;
  let c = b[pos]!;
  if (c < 0x80) {
    next = pos + 1;
    return c;
  }
  let v = c & 0x7f;
  for (let shift = 7; shift < 28; shift += 7) {
    if (++pos >= end) return -1;
    c = b[pos]!;
    v |= (c & 0x7f) << shift;
    if (c < 0x80) {
      next = pos + 1;
      return v;
    }
  }
  return -1;
}

/**
 * Skips a varint of at most 4 bytes (below 2^28: severity numbers, counts); -1 for anything longer,
 * which the reference decoder judges (negative int32 values take 10 bytes, values from 2^32 on may
 * be refused).
 */
function skipShortVarint(b: Buffer, pos: number, end: number): number {
  for (let i = 0; i < 4 && pos < end; i++) if (b[pos++]! < 0x80) return pos;
  return -1;
}

/** Skips a varint of at most 10 bytes (a 64-bit value); -1 for anything else. */
function skipVarint(b: Buffer, pos: number, end: number): number {
  for (let i = 0; i < 10 && pos < end; i++) if (b[pos++]! < 0x80) return pos;
  return -1;
}
