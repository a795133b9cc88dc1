import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';

/**
 * A test double of Splunk's HTTP Event Collector, built from Splunk's documentation of HEC:
 *
 * - `POST /services/collector`, `/services/collector/event` and `/services/collector/event/1.0`:
 *   concatenated JSON events, optionally gzip (`Content-Encoding: gzip`);
 * - `POST /services/collector/ack` (indexer acknowledgement per channel) and
 *   `GET /services/collector/health` (code 17, or 18/19/20 when set unhealthy);
 * - token auth as `Authorization: Splunk <token>` or Basic with the token as password;
 * - HEC's response codes with their HTTP statuses and `{"text":…,"code":…}` bodies, with
 *   `invalid-event-number` for the event that failed, `ackId` for acknowledged tokens;
 * - per-token allowed indexes (code 7), `event` required / not blank (12/13), indexed `fields`
 *   checks (15), channels (10/11), and scripted failures (busy, 429 with Retry-After, auth …).
 *
 * On an invalid event, the events before it are indexed and the rest are not (as reported for
 * Splunk Enterprise); `indexPrecedingOnError: false` drops the whole request instead.
 * Test code, never product code.
 */
export interface HecToken {
  readonly token: string;
  /** Indexes the token may write to (default: every index of the server). */
  readonly indexes?: readonly string[];
  /** Where events without `index` go (default `main`). */
  readonly defaultIndex?: string;
  /** Indexer acknowledgement is on: a channel is required and responses carry `ackId`. */
  readonly useAck?: boolean;
  disabled?: boolean;
}

export interface HecServerOptions {
  readonly tokens: readonly HecToken[];
  /** Indexes that exist (default `['main']`). */
  readonly indexes?: readonly string[];
  /** HTTPS; with `requireClientCert`, clients need a certificate signed by `ca`. */
  readonly tls?: {
    readonly key: string;
    readonly cert: string;
    readonly ca?: string;
    readonly requireClientCert?: boolean;
  };
  /** Whether events before an invalid one are indexed (default true). */
  readonly indexPrecedingOnError?: boolean;
  /** Largest request body, after decompression (default 800 MB, HEC's maximum). */
  readonly maxContentLength?: number;
  /** Keep every event (default); false: only count them (benchmarks). */
  readonly store?: boolean;
}

export interface StoredEvent {
  readonly time: unknown;
  readonly host?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly index: string;
  readonly event: unknown;
  readonly fields?: Record<string, unknown>;
  readonly token: string;
  readonly channel?: string;
}

export interface HecRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly code: number | undefined;
  /** Events in the body (event requests that got that far). */
  readonly events: number;
  /** The indexes the request's events named or defaulted to, as far as HEC read them. */
  readonly indexes: readonly string[];
  readonly gzip: boolean;
  readonly bytes: number;
  readonly auth: 'splunk' | 'basic' | 'none' | 'other';
  readonly channel: string | undefined;
  readonly clientCert: string | undefined;
}

/** A scripted answer: a HEC code (with its status and text), or a raw status/body. */
export interface ScriptedReply {
  readonly code?: number;
  readonly status?: number;
  readonly text?: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly invalidEventNumber?: number;
}

/** HEC's codes: text and HTTP status. */
export const HEC_CODES: ReadonlyMap<number, { readonly text: string; readonly status: number }> = new Map([
  [0, { text: 'Success', status: 200 }],
  [1, { text: 'Token disabled', status: 403 }],
  [2, { text: 'Token is required', status: 401 }],
  [3, { text: 'Invalid authorization', status: 401 }],
  [4, { text: 'Invalid token', status: 403 }],
  [5, { text: 'No data', status: 400 }],
  [6, { text: 'Invalid data format', status: 400 }],
  [7, { text: 'Incorrect index', status: 400 }],
  [8, { text: 'Internal server error', status: 500 }],
  [9, { text: 'Server is busy', status: 503 }],
  [10, { text: 'Data channel is missing', status: 400 }],
  [11, { text: 'Invalid data channel', status: 400 }],
  [12, { text: 'Event field is required', status: 400 }],
  [13, { text: 'Event field cannot be blank', status: 400 }],
  [14, { text: 'ACK is disabled', status: 400 }],
  [15, { text: 'Error in handling indexed fields', status: 400 }],
  [16, { text: 'Query string authorization is not enabled', status: 400 }],
  [17, { text: 'HEC is healthy', status: 200 }],
  [18, { text: 'HEC is unhealthy, queues are full', status: 503 }],
  [19, { text: 'HEC is unhealthy, ack service unavailable', status: 503 }],
  [20, { text: 'HEC is unhealthy, queues are full, ack service unavailable', status: 503 }],
  [21, { text: 'Invalid token', status: 400 }],
  [22, { text: 'Token disabled', status: 400 }],
]);

const EVENT_PATHS = new Set(['/services/collector', '/services/collector/event', '/services/collector/event/1.0']);
const ACK_PATHS = new Set(['/services/collector/ack', '/services/collector/ack/1.0']);
const HEALTH_PATHS = new Set(['/services/collector/health', '/services/collector/health/1.0']);
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Start and end offsets of the top-level JSON values in a body of concatenated JSON objects
 * (whitespace between them allowed). Strings are skipped with `indexOf`, so this stays cheap for
 * large bodies; a value that never closes ends at the end of the body (and fails to parse).
 */
export function splitConcatenated(buf: Buffer): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let start = -1;
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const c = buf[i]!;
    if (c === QUOTE) {
      let q = i;
      for (;;) {
        q = buf.indexOf(QUOTE, q + 1);
        if (q < 0) {
          i = n;
          break;
        }
        let backslashes = 0;
        while (buf[q - 1 - backslashes] === BACKSLASH) backslashes++;
        if (backslashes % 2 === 0) {
          i = q + 1;
          break;
        }
      }
      if (start < 0) start = i; // a bare string at the top level: parsed (and refused) as one value
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (depth === 0) start = i;
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) {
        out.push([start, i + 1]);
        start = -1;
      }
    } else if (depth === 0 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      // Not JSON object syntax at the top level: one bad value up to the next object.
      const next = buf.indexOf(0x7b, i);
      out.push([i, next < 0 ? n : next]);
      i = next < 0 ? n : next;
      continue;
    }
    i++;
  }
  if (depth > 0 && start >= 0) out.push([start, n]);
  return out;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Channel {
  next: number;
  /** ack id → when it becomes true (Infinity: never), and the events of its request. */
  readonly acks: Map<number, { readonly readyAt: number; readonly events: number }>;
}

interface Auth {
  readonly token: HecToken | undefined;
  readonly scheme: HecRequest['auth'];
  readonly problem: number | undefined;
}

export class SplunkHecServer {
  readonly events: StoredEvent[] = [];
  /** Events indexed so far (also when `store` is off). */
  indexed = 0;
  /** Events of requests whose ackId was reported true to a client. */
  ackedEvents = 0;
  readonly requests: HecRequest[] = [];
  /** Answers for the next event requests (before any check), first in first out. */
  readonly script: ScriptedReply[] = [];
  /** While set, every event request gets it (an outage, a rate limit). */
  mode: ScriptedReply | undefined;
  /** Health code: 17 healthy, 18/19/20 unhealthy. */
  healthCode = 17;
  /** Milliseconds until an ackId becomes true. */
  ackDelayMs = 0;
  /** The next this-many acknowledged requests are lost before indexing: not stored, never acked. */
  loseRequests = 0;
  private readonly channels = new Map<string, Channel>();
  private server!: Server;
  private readonly indexes: ReadonlySet<string>;
  port = 0;

  constructor(private readonly options: HecServerOptions) {
    this.indexes = new Set(options.indexes ?? ['main']);
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) =>
      void this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
      });
    const tls = this.options.tls;
    this.server = tls
      ? createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            requestCert: tls.requireClientCert === true,
            rejectUnauthorized: tls.requireClientCert === true,
          },
          handler,
        )
      : createHttpServer(handler);
    this.server.keepAliveTimeout = 30_000;
    this.port = await new Promise<number>((resolve) =>
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)),
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `http(s)://<host>:<port>` (host defaults to 127.0.0.1). */
  url(host = '127.0.0.1'): string {
    return `${this.options.tls ? 'https' : 'http'}://${host}:${this.port}`;
  }

  token(value: string): HecToken | undefined {
    return this.options.tokens.find((t) => t.token === value);
  }

  /** Stored events whose `event` is a local record with this uuid. */
  eventsFor(uuid: string): StoredEvent[] {
    return this.events.filter((e) => (e.event as { message_uuid?: unknown } | null)?.message_uuid === uuid);
  }

  private authenticate(req: IncomingMessage, query: URLSearchParams): Auth {
    const header = req.headers.authorization;
    if (header === undefined) {
      return { token: undefined, scheme: 'none', problem: query.has('token') ? 16 : 2 };
    }
    let value: string | undefined;
    let scheme: HecRequest['auth'] = 'other';
    const m = /^(\S+)\s+(.+)$/.exec(header);
    if (m && m[1]!.toLowerCase() === 'splunk') {
      scheme = 'splunk';
      value = m[2]!.trim();
    } else if (m && m[1]!.toLowerCase() === 'basic') {
      scheme = 'basic';
      const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      value = colon < 0 ? undefined : decoded.slice(colon + 1);
    }
    if (value === undefined || value === '') return { token: undefined, scheme, problem: 3 };
    const token = this.options.tokens.find((t) => same(t.token, value));
    if (token === undefined) return { token, scheme, problem: 4 };
    if (token.disabled === true) return { token, scheme, problem: 1 };
    return { token, scheme, problem: undefined };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://hec');
    const path = url.pathname.replace(/\/+$/, '');
    const gzip = /gzip/i.test(req.headers['content-encoding'] ?? '');
    const channel =
      (req.headers['x-splunk-request-channel'] as string | undefined) ?? url.searchParams.get('channel') ?? undefined;
    const socket = req.socket;
    const clientCert =
      socket instanceof TLSSocket && socket.authorized
        ? String(socket.getPeerCertificate().subject?.CN ?? '')
        : undefined;
    let auth: Auth = { token: undefined, scheme: 'none', problem: undefined };
    let events = 0;
    const indexes = new Set<string>();
    const reply = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      this.requests.push({
        method: req.method ?? '',
        path,
        status,
        code: typeof body['code'] === 'number' ? body['code'] : undefined,
        events,
        indexes: [...indexes],
        gzip,
        bytes: raw.length,
        auth: auth.scheme,
        channel,
        clientCert,
      });
      res
        .writeHead(status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
          ...headers,
        })
        .end(text);
    };
    const code = (c: number, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
      const { text, status } = HEC_CODES.get(c)!;
      reply(status, { text, code: c, ...extra }, headers);
    };

    if (req.method === 'GET' && HEALTH_PATHS.has(path)) {
      code(this.healthCode);
      return;
    }
    const isEvent = req.method === 'POST' && EVENT_PATHS.has(path);
    const isAck = req.method === 'POST' && ACK_PATHS.has(path);
    if (!isEvent && !isAck) {
      reply(404, { text: 'The requested URL was not found on this server.', code: 404 });
      return;
    }
    if (isEvent) {
      const scripted = this.script.shift() ?? this.mode;
      if (scripted !== undefined) {
        const known = scripted.code === undefined ? undefined : HEC_CODES.get(scripted.code);
        const status = scripted.status ?? known?.status ?? 500;
        if (scripted.body !== undefined) {
          this.requests.push({
            method: 'POST',
            path,
            status,
            code: undefined,
            events,
            indexes: [],
            gzip,
            bytes: raw.length,
            auth: 'other',
            channel,
            clientCert,
          });
          res.writeHead(status, scripted.headers).end(scripted.body);
          return;
        }
        const body: Record<string, unknown> = { text: scripted.text ?? known?.text ?? 'scripted', code: scripted.code };
        if (scripted.invalidEventNumber !== undefined) body['invalid-event-number'] = scripted.invalidEventNumber;
        reply(status, body, scripted.headers);
        return;
      }
    }
    auth = this.authenticate(req, url.searchParams);
    if (auth.problem !== undefined) {
      code(auth.problem);
      return;
    }
    const token = auth.token!;
    if (isAck) {
      this.handleAck(token, channel, raw, gzip, code, reply);
      return;
    }
    if (token.useAck === true) {
      if (channel === undefined) {
        code(10);
        return;
      }
      if (!GUID.test(channel)) {
        code(11);
        return;
      }
    }
    let body: Buffer;
    try {
      body = gzip ? gunzipSync(raw) : raw;
    } catch {
      code(6);
      return;
    }
    const max = this.options.maxContentLength ?? 838_860_800;
    if (body.length > max) {
      reply(413, { text: `Content-Length of ${body.length} too large (maximum is ${max})`, code: 413 });
      return;
    }
    const spans = splitConcatenated(body);
    events = spans.length;
    if (spans.length === 0) {
      code(5);
      return;
    }
    // Counting only (benchmarks): events are checked only when a token restricts indexes.
    const validate = this.options.store !== false || this.options.tokens.some((t) => t.indexes !== undefined);
    const accepted: StoredEvent[] = [];
    for (let i = 0; validate && i < spans.length; i++) {
      const [start, end] = spans[i]!;
      const problem = this.check(body.toString('utf8', start, end), token, channel, accepted, indexes);
      if (problem !== undefined) {
        if (this.options.indexPrecedingOnError !== false) this.index(accepted, i);
        code(problem, { 'invalid-event-number': i });
        return;
      }
    }
    const extra: Record<string, unknown> = {};
    let lost = false;
    if (token.useAck === true) {
      const ch: Channel = this.channels.get(channel!) ?? { next: 0, acks: new Map() };
      this.channels.set(channel!, ch);
      const ackId = ch.next++;
      lost = this.loseRequests > 0;
      if (lost) this.loseRequests--;
      ch.acks.set(ackId, { readyAt: lost ? Infinity : Date.now() + this.ackDelayMs, events: spans.length });
      extra['ackId'] = ackId;
    }
    if (!lost) this.index(accepted, spans.length);
    code(0, extra);
  }

  /** Stores the accepted events (or counts `count` of them when not storing). */
  private index(accepted: StoredEvent[], count: number): void {
    if (this.options.store === false) {
      this.indexed += count;
      return;
    }
    this.indexed += accepted.length;
    for (const e of accepted) this.events.push(e);
  }

  /** Checks one event as HEC does; returns the error code, or stores it in `accepted`. */
  private check(
    text: string,
    token: HecToken,
    channel: string | undefined,
    accepted: StoredEvent[],
    indexes: Set<string>,
  ): number | undefined {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return 6;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 6;
    const e = v as Record<string, unknown>;
    if (!('event' in e)) return 12;
    const ev = e['event'];
    if (ev === null || (typeof ev === 'string' && ev.trim() === '')) return 13;
    for (const k of ['host', 'source', 'sourcetype', 'index'] as const) {
      if (e[k] !== undefined && typeof e[k] !== 'string') return 6;
    }
    const time = e['time'];
    if (time !== undefined && !(typeof time === 'number' || (typeof time === 'string' && /^\d+(\.\d+)?$/.test(time)))) {
      return 6;
    }
    const index = (e['index'] as string | undefined) ?? token.defaultIndex ?? 'main';
    indexes.add(index);
    if (!this.indexes.has(index) || (token.indexes !== undefined && !token.indexes.includes(index))) return 7;
    const fields = e['fields'];
    if (fields !== undefined) {
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return 15;
      for (const fv of Object.values(fields as Record<string, unknown>)) {
        const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'number';
        if (!(scalar(fv) || (Array.isArray(fv) && fv.every(scalar)))) return 15;
      }
    }
    accepted.push({
      time,
      ...(typeof e['host'] === 'string' ? { host: e['host'] } : {}),
      ...(typeof e['source'] === 'string' ? { source: e['source'] } : {}),
      ...(typeof e['sourcetype'] === 'string' ? { sourcetype: e['sourcetype'] } : {}),
      index,
      event: ev,
      ...(fields === undefined ? {} : { fields: fields as Record<string, unknown> }),
      token: token.token,
      ...(channel === undefined ? {} : { channel }),
    });
    return undefined;
  }

  private handleAck(
    token: HecToken,
    channel: string | undefined,
    raw: Buffer,
    gzip: boolean,
    code: (c: number, extra?: Record<string, unknown>) => void,
    reply: (status: number, body: Record<string, unknown>) => void,
  ): void {
    if (token.useAck !== true) {
      code(14);
      return;
    }
    if (channel === undefined) {
      code(10);
      return;
    }
    if (!GUID.test(channel)) {
      code(11);
      return;
    }
    let ids: unknown;
    try {
      ids = (JSON.parse((gzip ? gunzipSync(raw) : raw).toString('utf8')) as { acks?: unknown }).acks;
    } catch {
      ids = undefined;
    }
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) {
      code(6);
      return;
    }
    const ch = this.channels.get(channel);
    const now = Date.now();
    const acks: Record<string, boolean> = {};
    for (const id of ids as number[]) {
      const ack = ch?.acks.get(id);
      const done = ack !== undefined && ack.readyAt <= now;
      acks[String(id)] = done;
      // An ack reported true is forgotten, as HEC does.
      if (done) {
        ch!.acks.delete(id);
        this.ackedEvents += ack.events;
      }
    }
    reply(200, { acks });
  }
}
