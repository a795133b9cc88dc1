import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test double of SAP's Audit Log Retrieval API (`auditlog-management`) and of XSUAA's token
 * endpoint, built from SAP's documentation (reference §2–§3, wave-2 facts §1):
 *
 * - `POST /oauth/token`: client credentials (Basic auth or form fields); `access_token`, `expires_in`;
 * - `GET /auditlog/v2/auditlogrecords` with `Authorization: Bearer <token>` (else 401);
 *   `time_from`/`time_to` as `YYYY-MM-DDTHH:MM:SS` (UTC; else 400); no filter: the last 30 days;
 *   `category` (comma-separated, the four documented values; else 400; 501
 *   `filter_category_not_supported` when the account has a custom retention period);
 * - 500 records per page, ascending by time; the next page's handle in `Paging: handle=<value>`,
 *   opaque (with characters that must be URL-encoded), valid only sent back unchanged with the same
 *   window and category (else 400); no `Paging` header on the last page; 204 when nothing matches;
 * - a rate limit per token (429 past it), scripted answers, records whose `message` is an object
 *   or its JSON text, and records that become visible only some time after their event time.
 *
 * The window is `time_from` inclusive, `time_to` exclusive (SAP does not document which; the
 * receiver must not depend on it). Test code, never product code.
 */

export const CATEGORIES = [
  'audit.security-events',
  'audit.configuration',
  'audit.data-access',
  'audit.data-modification',
] as const;

/** A record as the API returns it (reference §3.4). */
export interface ApiRecord {
  message_uuid: string;
  time: string;
  tenant: string;
  org_id: string;
  space_id: string;
  app_or_service_id: string;
  als_service_id: string;
  user: string;
  category: string;
  format_version: string;
  message: Record<string, unknown> | string;
}

interface StoredRecord {
  readonly record: ApiRecord;
  readonly timeMs: number;
  /** Server time (epoch ms) from which queries return the record. */
  readonly visibleAt: number;
}

export interface ScriptedReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface RetrievalServerOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tokenTtlSeconds?: number;
  /** Requests per second per token before 429 (default: no limit). */
  readonly maxRequestsPerSecond?: number;
  /** Page size (SAP's is fixed at 500). */
  readonly pageSize?: number;
  /** Filtering by category answers 501 (custom retention period, sovereign cloud). */
  readonly categoryFilterUnsupported?: boolean;
}

/** A page being read: the window it belongs to and the records left. */
interface Cursor {
  readonly query: string;
  readonly records: readonly StoredRecord[];
  readonly offset: number;
}

const API_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const DAY_MS = 86_400_000;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers })
    .end(text);
}

/** `YYYY-MM-DDTHH:MM:SS` (UTC) as epoch ms. */
function parseApiTime(v: string): number {
  return Date.parse(`${v}Z`);
}

/** A record shaped like the documented example: a security event, data access, … by category. */
export function apiRecord(options: {
  uuid?: string;
  time: number;
  category?: string;
  user?: string;
  messageAs?: 'object' | 'string';
  tenant?: string;
}): ApiRecord {
  const uuid = options.uuid ?? randomUUID();
  const category = options.category ?? 'audit.security-events';
  const user = options.user ?? 'test';
  const time = new Date(options.time).toISOString();
  const tenant = options.tenant ?? 'c6da83a8-dc72-4374-b8f7-42b37a99aaaa';
  const message: Record<string, unknown> = {
    uuid: ` ${uuid} `,
    user,
    time,
    id: randomUUID(),
    category,
    tenant,
  };
  if (category === 'audit.security-events') {
    message['ip'] = '10.58.183.15';
    message['data'] = JSON.stringify({ level: 'INFO', msgNo: 1, text: `login of ${user}`, version: '1.0' });
  } else {
    message['object'] = { type: 'online system', id: { name: 'Students info system' } };
    message['attributes'] = [{ name: 'name of attribute 1', old: 'a', new: 'b' }];
    if (category !== 'audit.configuration') {
      message['data_subject'] = { type: 'student', id: { student_id: '12345678' } };
      message['success'] = true;
    }
  }
  return {
    message_uuid: uuid,
    time,
    tenant,
    org_id: '82f1da92-e5b3-4cc5-8c90-964165afaaaa',
    space_id: '82f1da92-e5b3-4cc5-8c90-964165aaaaa',
    app_or_service_id: '5fb40c3a-d36a-42c7-adc8-e4abd83daaaa',
    als_service_id: 'c18f9b6d-a8af-431c-a187-749ebc59aaaa',
    user,
    category,
    format_version: '',
    message: options.messageAs === 'string' ? JSON.stringify(message) : message,
  };
}

export class SapRetrievalServer {
  /** Token requests that got a token. */
  tokensIssued = 0;
  /** Every request to the records endpoint (including refused ones). */
  apiRequests = 0;
  /** Status of each API answer, in order. */
  readonly statuses: number[] = [];
  /** Query strings of the API requests, in order. */
  readonly queries: URLSearchParams[] = [];
  /** Answers for the next API requests (after the bearer check), first in first out. */
  readonly apiScript: ScriptedReply[] = [];
  /** Answers for the next token requests. */
  readonly tokenScript: ScriptedReply[] = [];
  /** Handles that came back changed or with another window. */
  badHandles = 0;
  /** When the first API request arrived (epoch ms; 0: none yet). */
  firstRequestAt = 0;
  private readonly records: StoredRecord[] = [];
  private sorted = true;
  private readonly tokens = new Map<string, number>();
  private readonly cursors = new Map<string, Cursor>();
  private readonly window = new Map<string, number[]>();
  private api!: Server;
  private uaa!: Server;
  apiPort = 0;
  uaaPort = 0;

  constructor(private readonly options: RetrievalServerOptions) {}

  async start(): Promise<void> {
    this.api = createServer((req, res) => this.handleApi(req, res));
    this.uaa = createServer((req, res) => void this.handleToken(req, res));
    const listen = (s: Server) =>
      new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
    this.apiPort = await listen(this.api);
    this.uaaPort = await listen(this.uaa);
  }

  async stop(): Promise<void> {
    for (const s of [this.api, this.uaa]) {
      if (s === undefined) continue;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  get uaaUrl(): string {
    return `http://127.0.0.1:${this.uaaPort}`;
  }

  /** Adds records, visible from `visibleAt` (server time, default: now). */
  add(records: readonly ApiRecord[], visibleAt = Date.now()): void {
    for (const record of records) this.records.push({ record, timeMs: Date.parse(record.time), visibleAt });
    this.sorted = false;
  }

  /** Every record's uuid, in time order. */
  uuids(): string[] {
    return this.sortedRecords().map((r) => r.record.message_uuid);
  }

  /** Invalidates every token issued so far (the API answers 401 until a new one is fetched). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private sortedRecords(): StoredRecord[] {
    if (!this.sorted) {
      this.records.sort((a, b) => a.timeMs - b.timeMs || (a.record.message_uuid < b.record.message_uuid ? -1 : 1));
      this.sorted = true;
    }
    return this.records;
  }

  private async handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const scripted = this.tokenScript.shift();
    if (scripted) {
      res.writeHead(scripted.status, scripted.headers).end(scripted.body ?? '');
      return;
    }
    if (req.method !== 'POST' || !(req.url ?? '').startsWith('/oauth/token')) {
      json(res, 404, { error: 'not_found' });
      return;
    }
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    if ((form.get('grant_type') ?? query.get('grant_type')) !== 'client_credentials') {
      json(res, 400, { error: 'unsupported_grant_type' });
      return;
    }
    const auth = req.headers.authorization ?? '';
    let clientId: string | null;
    let secret: string | null;
    if (auth.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = decoded.slice(0, colon);
      secret = decoded.slice(colon + 1);
    } else {
      clientId = form.get('client_id');
      secret = form.get('client_secret');
    }
    if (clientId !== this.options.clientId || secret === null || !same(secret, this.options.clientSecret)) {
      json(res, 401, { error: 'unauthorized', error_description: 'Bad credentials' });
      return;
    }
    const ttl = this.options.tokenTtlSeconds ?? 3600;
    const value = `eyJ.${randomUUID()}.sig`;
    this.tokens.set(value, Date.now() + ttl * 1000);
    this.tokensIssued++;
    json(res, 200, {
      access_token: value,
      token_type: 'bearer',
      expires_in: ttl,
      scope: 'auditlog-management!b77.read',
    });
  }

  private handleApi(req: IncomingMessage, res: ServerResponse): void {
    this.apiRequests++;
    this.firstRequestAt ||= Date.now();
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.statuses.push(status);
      if (status === 204) res.writeHead(204, headers).end();
      else json(res, status, body, headers);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    this.queries.push(url.searchParams);
    if (req.method !== 'GET' || url.pathname !== '/auditlog/v2/auditlogrecords') {
      reply(404, { error: { code: 'not_found', message: 'URL not found' } });
      return;
    }
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const expires = this.tokens.get(token);
    if (expires === undefined || expires <= Date.now()) {
      reply(401, { error: { code: 'unauthorized', message: 'missing or invalid token' } });
      return;
    }
    if (this.overLimit(token)) {
      reply(429, { error: { code: 'too_many_requests', message: 'rate limit exceeded' } });
      return;
    }
    const scripted = this.apiScript.shift();
    if (scripted) {
      this.statuses.push(scripted.status);
      res
        .writeHead(scripted.status, { 'Content-Type': 'application/json', ...scripted.headers })
        .end(scripted.body ?? '');
      return;
    }
    const params = url.searchParams;
    const from = params.get('time_from');
    const to = params.get('time_to');
    for (const [name, v] of [
      ['time_from', from],
      ['time_to', to],
    ] as const) {
      if (v !== null && !API_TIME.test(v)) {
        reply(400, { error: { code: 'bad_request', message: `${name} must be YYYY-MM-DDTHH:MM:SS` } });
        return;
      }
    }
    const category = params.get('category');
    const categories = category === null ? [] : category.split(',');
    if (categories.some((c) => !(CATEGORIES as readonly string[]).includes(c))) {
      reply(400, { error: { code: 'bad_request', message: `unknown category in ${category}` } });
      return;
    }
    if (categories.length > 0 && this.options.categoryFilterUnsupported) {
      reply(501, {
        error: {
          code: 'filter_category_not_supported',
          message: 'Filtering by category not available for custom retention periods. Remove categories to proceed.',
        },
      });
      return;
    }
    const windowKey = `${from ?? ''}|${to ?? ''}|${category ?? ''}`;
    const handle = params.get('handle');
    let cursor: Cursor;
    if (handle !== null) {
      const found = this.cursors.get(handle);
      if (found === undefined || found.query !== windowKey) {
        this.badHandles++;
        reply(400, { error: { code: 'bad_request', message: 'invalid handle' } });
        return;
      }
      this.cursors.delete(handle);
      cursor = found;
    } else {
      const now = Date.now();
      const fromMs = from === null ? now - 30 * DAY_MS : parseApiTime(from);
      const toMs = to === null ? now : parseApiTime(to);
      const records = this.sortedRecords().filter(
        (r) =>
          r.visibleAt <= now &&
          r.timeMs >= fromMs &&
          r.timeMs < toMs &&
          (categories.length === 0 || categories.includes(r.record.category)),
      );
      cursor = { query: windowKey, records, offset: 0 };
    }
    const size = this.options.pageSize ?? 500;
    const page = cursor.records.slice(cursor.offset, cursor.offset + size);
    if (page.length === 0) {
      reply(204, undefined);
      return;
    }
    const headers: Record<string, string> = {};
    if (cursor.offset + size < cursor.records.length) {
      // Like the documented raw handle (time<uuid<window start), plus base64: characters that must be URL-encoded.
      const next = `${page[page.length - 1]!.record.time}<${randomUUID()}<${randomBytes(10).toString('base64')}+/=`;
      this.cursors.set(next, { ...cursor, offset: cursor.offset + size });
      headers['Paging'] = `handle=${next}`;
    }
    reply(
      200,
      page.map((r) => r.record),
      headers,
    );
  }

  /** Counts the request against the token's rate (a sliding second); true when it is one too many. */
  private overLimit(token: string): boolean {
    const limit = this.options.maxRequestsPerSecond;
    if (limit === undefined) return false;
    const now = Date.now();
    const recent = (this.window.get(token) ?? []).filter((t) => now - t < 1000);
    const over = recent.length >= limit;
    if (!over) recent.push(now);
    this.window.set(token, recent);
    return over;
  }
}
