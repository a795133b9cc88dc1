import { createHash } from 'node:crypto';
import type { JsonValue } from '@otel-audit/semconv';
import { SYSTEM_ID_ATTRIBUTE, type RetrievedRecord } from '../../model/local-record.js';

/** A record of the Retrieval API as a local record, with its time as epoch ms (NaN if it has none). */
export interface Retrieved {
  readonly record: RetrievedRecord;
  readonly timeMs: number;
  /** `message` was a string that is not a JSON object: it is kept as text under `unparsed_message`. */
  readonly unparsedMessage: boolean;
}

type Json = Record<string, JsonValue>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Namespace of the ids derived for retrieved records that carry none (a fixed, random UUID). */
const NAMESPACE = Buffer.from('9a1f3c5e7b2d4e6f8a0b1c2d3e4f5a6b', 'hex');

/** A name-based (v5) UUID from the record's JSON: the same record fetched again gets the same id. */
function derivedUuid(raw: unknown): string {
  const hash = createHash('sha1').update(NAMESPACE).update(JSON.stringify(raw)).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** `message` as an object: SAP sends an object or its JSON text (reference §3.4). */
function messageOf(v: unknown): { message: Json; unparsed: boolean } {
  if (isObject(v)) return { message: v, unparsed: false };
  if (typeof v === 'string') {
    try {
      const parsed = JSON.parse(v) as unknown;
      if (isObject(parsed)) return { message: parsed, unparsed: false };
    } catch {
      // not JSON: kept as text below
    }
    return { message: { unparsed_message: v }, unparsed: true };
  }
  return { message: {}, unparsed: v !== undefined && v !== null };
}

const OPTIONAL_FIELDS = ['org_id', 'space_id', 'app_or_service_id', 'als_service_id'] as const;

/**
 * One record of the API's answer as a local record (§6 shape plus the API's own fields), or
 * undefined when it is not a JSON object at all.
 */
export function toRetrieved(raw: unknown, systemId: string): Retrieved | undefined {
  if (!isObject(raw)) return undefined;
  const { message, unparsed } = messageOf(raw['message']);
  const uuid = text(raw['message_uuid'])?.trim() || text(message['uuid'])?.trim() || derivedUuid(raw);
  const time = text(raw['time']) ?? text(message['time']) ?? '';
  const record: RetrievedRecord = {
    message_uuid: uuid,
    time,
    category: text(raw['category']) ?? text(message['category']) ?? '',
    tenant: text(raw['tenant']) ?? text(message['tenant']) ?? '',
    user: text(raw['user']) ?? text(message['user']) ?? '',
    format_version: text(raw['format_version']) ?? '',
    message,
    resource: { [SYSTEM_ID_ATTRIBUTE]: systemId },
  };
  for (const f of OPTIONAL_FIELDS) {
    const v = text(raw[f]);
    if (v !== undefined) record[f] = v;
  }
  if (typeof message['success'] === 'boolean') record.success = message['success'];
  return { record, timeMs: Date.parse(time), unparsedMessage: unparsed };
}
