import { AuditEventName } from '@otel-audit/semconv';
import type { SplunkMetadata } from '../model/audit-record.js';
import {
  RETRIEVED_EVENT_NAME,
  type SpooledRecord,
  type SpoolEventName,
  type SpoolInput,
} from '../model/spooled-record.js';

/** A record read from the spool; its JSON text is decoded only if an exporter asks for it. */
class DecodedRecord implements SpooledRecord {
  private text: string | undefined;

  constructor(
    readonly seq: number,
    readonly uuid: string,
    readonly eventName: SpoolEventName,
    readonly eventTime: number,
    readonly receivedAt: number,
    readonly tenantSubdomain: string | undefined,
    readonly splunk: SplunkMetadata,
    readonly targets: readonly string[] | undefined,
    readonly jsonBytes: Buffer,
  ) {}

  get json(): string {
    return (this.text ??= this.jsonBytes.toString('utf8'));
  }
}

/**
 * Entry payload (binary, so encoding and decoding stay cheap on the hot path):
 *
 *   u8  format (1)          u8  event type code (EVENT_CODES)
 *   f64 event time (ms)     f64 receive time (ms)
 *   u8  flags: which optional strings follow (optionalStrings order), 0x40 = targets follow
 *   str uuid, then each optional string present      (str = u16 byte length + UTF-8)
 *   u8  target count, str per target                  (only with flag 0x40)
 *   the local record JSON (UTF-8) up to the end of the payload
 */
const FORMAT = 1;

/**
 * The event type byte of every entry ever written. Frozen: records on disk keep their code across
 * versions, so a code is never changed or reused; a new event type gets the next free number.
 */
export const EVENT_CODES: Readonly<Record<AuditEventName, number>> = Object.freeze({
  [AuditEventName.SecurityEvent]: 0,
  [AuditEventName.DataAccess]: 1,
  [AuditEventName.DataModification]: 2,
  [AuditEventName.DataDeletion]: 3,
  [AuditEventName.ConfigurationChange]: 4,
  [AuditEventName.ConfigurationDeletion]: 5,
});
/**
 * The type byte of records retrieved from SAP (they have SAP's category, no event name of ours).
 * Frozen like EVENT_CODES, and never a code of that table.
 */
export const RETRIEVED_RECORD_CODE = 6;
const CODES: Readonly<Record<SpoolEventName, number>> = {
  ...EVENT_CODES,
  [RETRIEVED_EVENT_NAME]: RETRIEVED_RECORD_CODE,
};
const EVENT_BY_CODE: readonly (SpoolEventName | undefined)[] = (() => {
  const byCode: (SpoolEventName | undefined)[] = [];
  for (const [name, code] of Object.entries(CODES)) byCode[code] = name as SpoolEventName;
  return byCode;
})();
const TARGETS_FLAG = 0x40;

function optionalStrings(r: SpoolInput): (string | undefined)[] {
  return [r.tenantSubdomain, r.splunk.source, r.splunk.sourcetype, r.splunk.index, r.splunk.host];
}

/** The bytes of a record's optional strings; without arrays (this runs for every record). */
function optionalSize(r: SpoolInput): number {
  const { tenantSubdomain, splunk } = r;
  let size = 0;
  if (tenantSubdomain !== undefined) size += strSize(tenantSubdomain);
  if (splunk.source !== undefined) size += strSize(splunk.source);
  if (splunk.sourcetype !== undefined) size += strSize(splunk.sourcetype);
  if (splunk.index !== undefined) size += strSize(splunk.index);
  if (splunk.host !== undefined) size += strSize(splunk.host);
  return size;
}

function strSize(s: string): number {
  return 2 + Buffer.byteLength(s);
}

function writeStr(buf: Buffer, at: number, s: string): number {
  const n = buf.write(s, at + 2, 'utf8');
  buf.writeUInt16LE(n, at);
  return at + 2 + n;
}

/** Records encoded back to back into one buffer, each preceded by `headerSize` bytes left for its header. */
export interface EncodedBatch {
  readonly buffer: Buffer;
  /** Start of each entry (its header) in `buffer`. */
  readonly offsets: readonly number[];
}

export function encodeBatch(inputs: readonly SpoolInput[], headerSize: number): EncodedBatch {
  const sizes: number[] = new Array<number>(inputs.length);
  let total = 0;
  for (let i = 0; i < inputs.length; i++) {
    const r = inputs[i]!;
    let size =
      headerSize + 19 + strSize(r.uuid) + (typeof r.json === 'string' ? Buffer.byteLength(r.json) : r.json.length);
    size += optionalSize(r);
    if (r.targets !== undefined) size += 1 + r.targets.reduce((n, t) => n + strSize(t), 0);
    sizes[i] = size;
    total += size;
  }
  const buffer = Buffer.allocUnsafe(total);
  const offsets: number[] = new Array<number>(inputs.length);
  let entry = 0;
  for (let i = 0; i < inputs.length; i++) {
    const r = inputs[i]!;
    offsets[i] = entry;
    let at = entry + headerSize;
    buffer[at] = FORMAT;
    buffer[at + 1] = CODES[r.eventName];
    buffer.writeDoubleLE(r.eventTime, at + 2);
    buffer.writeDoubleLE(r.receivedAt, at + 10);
    let flags = r.targets === undefined ? 0 : TARGETS_FLAG;
    at = writeStr(buffer, at + 19, r.uuid);
    const { tenantSubdomain, splunk } = r;
    if (
      tenantSubdomain !== undefined ||
      splunk.source !== undefined ||
      splunk.sourcetype !== undefined ||
      splunk.index !== undefined ||
      splunk.host !== undefined
    ) {
      const optional = optionalStrings(r);
      optional.forEach((o, bit) => o !== undefined && (flags |= 1 << bit));
      for (const o of optional) if (o !== undefined) at = writeStr(buffer, at, o);
    }
    buffer[entry + headerSize + 18] = flags;
    if (r.targets !== undefined) {
      buffer[at++] = r.targets.length;
      for (const t of r.targets) at = writeStr(buffer, at, t);
    }
    if (typeof r.json === 'string') buffer.write(r.json, at, 'utf8');
    else buffer.set(r.json, at);
    entry += sizes[i]!;
  }
  return { buffer, offsets };
}

export function decodePayload(seq: number, payload: Buffer): SpooledRecord {
  if (payload[0] !== FORMAT) throw new Error(`unknown spool record format ${payload[0]}`);
  const eventName = EVENT_BY_CODE[payload[1]!];
  if (eventName === undefined) throw new Error(`unknown event type code ${payload[1]} in spool record`);
  const eventTime = payload.readDoubleLE(2);
  const receivedAt = payload.readDoubleLE(10);
  const flags = payload[18]!;
  let at = 19;
  const str = (): string => {
    const n = payload.readUInt16LE(at);
    const s = payload.toString('utf8', at + 2, at + 2 + n);
    at += 2 + n;
    return s;
  };
  const uuid = str();
  const opt = (bit: number) => (flags & (1 << bit) ? str() : undefined);
  const tenantSubdomain = opt(0);
  const splunk: SplunkMetadata = {};
  const source = opt(1);
  const sourcetype = opt(2);
  const index = opt(3);
  const host = opt(4);
  if (source !== undefined) splunk.source = source;
  if (sourcetype !== undefined) splunk.sourcetype = sourcetype;
  if (index !== undefined) splunk.index = index;
  if (host !== undefined) splunk.host = host;
  let targets: string[] | undefined;
  if (flags & TARGETS_FLAG) {
    const count = payload[at++]!;
    targets = [];
    for (let i = 0; i < count; i++) targets.push(str());
  }
  return new DecodedRecord(
    seq,
    uuid,
    eventName,
    eventTime,
    receivedAt,
    tenantSubdomain,
    splunk,
    targets,
    payload.subarray(at),
  );
}
