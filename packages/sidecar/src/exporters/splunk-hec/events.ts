import { RETRIEVED_EVENT_NAME, type SpooledRecord } from '../../model/spooled-record.js';

/** `host`, `source`, `sourcetype` and `index` of a HEC event. */
export interface HecMetadata {
  readonly host?: string | undefined;
  readonly source?: string | undefined;
  readonly sourcetype?: string | undefined;
  readonly index?: string | undefined;
}

/**
 * One record as a HEC event, kept in parts so that requests can be assembled (and re-assembled
 * for a resend or a bisection) by copying bytes: the local record JSON from the spool is spliced
 * in as `event` without being parsed or serialized again.
 *
 *   {"time":<time><meta>,"event":<json><fields>}
 */
export interface HecEvent {
  /** Position of the record in the export batch. */
  readonly position: number;
  /** Epoch seconds with milliseconds (ASCII). */
  readonly time: string;
  /** `,"host":…,"source":…,"sourcetype":…,"index":…,"event":` (the keys that are set). */
  readonly meta: Buffer;
  /** The local record JSON (docs/semantic-conventions.md, "The local record"). */
  readonly json: Buffer;
  /** `,"fields":{…}` or nothing. */
  readonly fields: Buffer | undefined;
  /** Encoded size in bytes. */
  readonly size: number;
  /** The index it goes to (undefined: the token's default index). */
  readonly index: string | undefined;
  /** True when the index came from the record (`com.splunk.index`), not from the config. */
  readonly ownIndex: boolean;
}

const OPEN = '{"time":';
const CLOSE = 0x7d; // }
const META_CACHE_LIMIT = 1024;

/** Epoch milliseconds as HEC's `time`: seconds with three decimals, e.g. `1763719200.123`. */
export function hecTime(ms: number): string {
  const t = Math.round(ms);
  if (t < 0) return `-${hecTime(-t)}`;
  const seconds = Math.floor(t / 1000);
  const millis = t - seconds * 1000;
  return `${seconds}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`;
}

/** Fields read from the start of the local record, before `message` (see `head`). */
const HEAD_FIELDS = new Set([
  'message_uuid',
  'time',
  'category',
  'tenant',
  'user',
  'format_version',
  'success',
  // records retrieved from SAP only
  'org_id',
  'space_id',
  'app_or_service_id',
  'als_service_id',
]);

/** Why `name` cannot be an indexed field, or undefined when it can. */
export function fieldProblem(name: string): string | undefined {
  if (name === 'event_name' || HEAD_FIELDS.has(name)) return undefined;
  if (/^(resource|message)\..+/.test(name)) return undefined;
  return `unknown field "${name}": use event_name, message_uuid, time, category, tenant, user, format_version, success, resource.<attribute> or message.<path>`;
}

type Json = Record<string, unknown>;
type Getter = (record: SpooledRecord, local: Json) => unknown;

function getter(name: string): Getter {
  if (name === 'event_name') return (r) => r.eventName;
  if (name.startsWith('resource.')) {
    const key = name.slice('resource.'.length);
    return (_, local) => (local['resource'] as Json | undefined)?.[key];
  }
  if (name.startsWith('message.')) {
    const path = name.slice('message.'.length).split('.');
    return (_, local) => walk(local['message'], path);
  }
  return (_, local) => local[name];
}

/** `path` into `value`; a key that itself contains dots (`customDetails.a.b` with key `a.b`) is found too. */
function walk(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (let i = 0; i < path.length; i++) {
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Json;
    const rest = path.slice(i).join('.');
    if (i < path.length - 1 && rest in o) return o[rest];
    v = o[path[i]!];
  }
  return v;
}

/** An indexed field value: strings, or arrays of strings; other values as their JSON text. */
function fieldValue(v: unknown): string | string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) {
    return v.map(String);
  }
  return JSON.stringify(v);
}

/**
 * The local record's keys up to `message` (message_uuid … success), without parsing the rest:
 * the writer puts them first, and `,"message":` cannot occur earlier since the values before it are
 * strings and booleans (a quote inside a JSON string is always escaped).
 */
function head(bytes: Buffer): Json {
  const end = bytes.indexOf(MESSAGE_KEY);
  return JSON.parse(end > 0 ? `${bytes.toString('utf8', 0, end)}}` : bytes.toString('utf8')) as Json;
}

const MESSAGE_KEY = Buffer.from(',"message":');

/** Builds HEC events from spooled records: metadata from the record over the config, `time`, `fields`. */
export class EventBuilder {
  private readonly metaCache = new Map<string, Buffer>();
  private lastMeta: (HecMetadata & { readonly meta: Buffer }) | undefined;
  private readonly fields: readonly (readonly [string, Getter])[];
  /** How much of the local record the fields need: nothing, its head, or all of it. */
  private readonly parse: 'none' | 'head' | 'all';

  constructor(
    private readonly defaults: HecMetadata,
    fieldNames: readonly string[],
  ) {
    this.fields = fieldNames.map((n) => [n, getter(n)] as const);
    this.parse = fieldNames.some((n) => n.startsWith('resource.') || n.startsWith('message.'))
      ? 'all'
      : fieldNames.some((n) => HEAD_FIELDS.has(n))
        ? 'head'
        : 'none';
  }

  build(record: SpooledRecord, position: number): HecEvent {
    const s = record.splunk;
    const d = this.defaults;
    // An empty attribute value counts as absent: the configured value applies.
    const index = s.index || d.index;
    // A retrieved record's source is its system id: a default, which the configured source overrides.
    const source = record.eventName === RETRIEVED_EVENT_NAME ? d.source || s.source : s.source || d.source;
    const meta = this.meta(s.host || d.host, source, s.sourcetype || d.sourcetype, index);
    const time = hecTime(record.eventTime);
    const fields = this.fields.length === 0 ? undefined : this.fieldsOf(record);
    const json = record.jsonBytes;
    return {
      position,
      time,
      meta,
      json,
      fields,
      size: OPEN.length + time.length + meta.length + json.length + (fields === undefined ? 0 : fields.length) + 1,
      index,
      ownIndex: !!s.index,
    };
  }

  private meta(
    host: string | undefined,
    source: string | undefined,
    sourcetype: string | undefined,
    index: string | undefined,
  ): Buffer {
    // Records in a row usually carry the same metadata: compare with the last before building a key.
    const last = this.lastMeta;
    if (
      last !== undefined &&
      last.host === host &&
      last.source === source &&
      last.sourcetype === sourcetype &&
      last.index === index
    ) {
      return last.meta;
    }
    const key = `${host ?? ''}\u0000${source ?? ''}\u0000${sourcetype ?? ''}\u0000${index ?? ''}`;
    let meta = this.metaCache.get(key);
    if (meta === undefined) {
      let text = '';
      if (host !== undefined) text += `,"host":${JSON.stringify(host)}`;
      if (source !== undefined) text += `,"source":${JSON.stringify(source)}`;
      if (sourcetype !== undefined) text += `,"sourcetype":${JSON.stringify(sourcetype)}`;
      if (index !== undefined) text += `,"index":${JSON.stringify(index)}`;
      meta = Buffer.from(`${text},"event":`);
      if (this.metaCache.size >= META_CACHE_LIMIT) this.metaCache.clear();
      this.metaCache.set(key, meta);
    }
    this.lastMeta = { host, source, sourcetype, index, meta };
    return meta;
  }

  private fieldsOf(record: SpooledRecord): Buffer | undefined {
    const local: Json = this.parse === 'none' ? {} : this.parse === 'head' ? head(record.jsonBytes) : parseAll(record);
    const out: Record<string, string | string[]> = {};
    let any = false;
    for (const [name, get] of this.fields) {
      const v = fieldValue(get(record, local));
      if (v === undefined) continue;
      out[name] = v;
      any = true;
    }
    return any ? Buffer.from(`,"fields":${JSON.stringify(out)}`) : undefined;
  }
}

function parseAll(record: SpooledRecord): Json {
  return JSON.parse(record.json) as Json;
}

/**
 * The events back to back (HEC's batch format: concatenated JSON objects, no separators), written
 * into `into` when it is large enough (a buffer reused from request to request), else a new one.
 */
export function encodeEvents(events: readonly HecEvent[], into?: Buffer): Buffer {
  let total = 0;
  for (const e of events) total += e.size;
  const buf = into !== undefined && into.length >= total ? into.subarray(0, total) : Buffer.allocUnsafe(total);
  let at = 0;
  for (const e of events) {
    at += buf.write(OPEN + e.time, at, 'latin1');
    buf.set(e.meta, at);
    at += e.meta.length;
    buf.set(e.json, at);
    at += e.json.length;
    if (e.fields !== undefined) {
      buf.set(e.fields, at);
      at += e.fields.length;
    }
    buf[at++] = CLOSE;
  }
  return buf;
}

/**
 * Events grouped by index (a request never mixes indexes: one bad index would fail the others),
 * each group split in order into requests of at most `maxBytes` before compression. Events that
 * alone exceed `maxBytes` are returned in `tooLarge`.
 */
export function planRequests(
  events: readonly HecEvent[],
  maxBytes: number,
): { requests: HecEvent[][]; tooLarge: HecEvent[] } {
  const groups = new Map<string | undefined, HecEvent[]>();
  const tooLarge: HecEvent[] = [];
  for (const e of events) {
    if (e.size > maxBytes) {
      tooLarge.push(e);
      continue;
    }
    let g = groups.get(e.index);
    if (g === undefined) groups.set(e.index, (g = []));
    g.push(e);
  }
  const requests: HecEvent[][] = [];
  for (const group of groups.values()) {
    let current: HecEvent[] = [];
    let bytes = 0;
    for (const e of group) {
      if (bytes + e.size > maxBytes && current.length > 0) {
        requests.push(current);
        current = [];
        bytes = 0;
      }
      current.push(e);
      bytes += e.size;
    }
    if (current.length > 0) requests.push(current);
  }
  return { requests, tooLarge };
}
