import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { TEST_DOMAIN, type TestPki } from './tls.js';

/**
 * A test double of the SAP Audit Log Service write API v2 and of XSUAA's token endpoint, built from
 * SAP's documentation (reference §1–§2): HTTPS only; `POST /oauth/token` (client credentials with a
 * secret on `<zone>.uaa.auditlog.test`, with a client certificate on `<zone>.cert.uaa.auditlog.test`);
 * `/audit-log/oauth2/v2/<type>` and `/audit-log/premium/v2/<type>` with bearer tokens,
 * `/audit-log/v2/<type>` with basic auth; per-type body checks; 413 over 10 KB; 201 on success;
 * `GET /audit-log` version discovery as `@sap/audit-logging` uses it. Failures can be scripted.
 * Test code, never product code.
 */
export interface StoredMessage {
  readonly endpoint: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** Identity zone of the token (`basic` for the standard plan). */
  readonly zone: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface SapServerOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The provider's identity zone (first label of the UAA host). */
  readonly providerZone: string;
  /** Subscriber zones tokens can be issued for. */
  readonly subscriberZones?: readonly string[];
  readonly tokenTtlSeconds?: number;
  readonly basicUser?: string;
  readonly basicPassword?: string;
}

const ENDPOINTS = new Set(['security-events', 'configuration-changes', 'data-accesses', 'data-modifications']);
const MAX_MESSAGE_BYTES = 10 * 1024;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers })
    .end(text);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What SAP's write API requires of each message type (reference §1.3–§1.6). */
export function validateMessage(endpoint: string, m: Record<string, unknown>): string | undefined {
  for (const k of ['uuid', 'user', 'time', 'tenant'])
    if (typeof m[k] !== 'string' || m[k] === '') return `${k} is mandatory`;
  if (!ISO_TIME.test(m['time'] as string)) return 'time is not an ISO-8601 UTC timestamp';
  for (const [k, v] of Object.entries(m)) if (v === null) return `${k} must not be null`;
  const object = m['object'] as { type?: unknown; id?: unknown } | undefined;
  const objectOk =
    typeof object === 'object' &&
    typeof object.type === 'string' &&
    typeof object.id === 'object' &&
    object.id !== null &&
    Object.keys(object.id).length > 0;
  const attributes = m['attributes'];
  const attributesOk =
    Array.isArray(attributes) &&
    attributes.length > 0 &&
    attributes.every((a: { name?: unknown }) => typeof a.name === 'string');
  const subjectOk = typeof m['data_subject'] === 'object' || Array.isArray(m['data_subjects']);
  switch (endpoint) {
    case 'security-events':
      return typeof m['data'] === 'string' && m['data'] !== '' ? undefined : 'data is mandatory';
    case 'configuration-changes':
      return !objectOk ? 'object {type, id} is mandatory' : !attributesOk ? 'attributes are mandatory' : undefined;
    case 'data-accesses':
    case 'data-modifications':
      if (!objectOk) return 'object {type, id} is mandatory';
      if (!attributesOk) return 'attributes are mandatory';
      return subjectOk ? undefined : 'the schema requires either data_subject or data_subjects';
    default:
      return 'unknown endpoint';
  }
}

interface Token {
  readonly zone: string;
  readonly expiresAt: number;
}

export class SapAuditLogServer {
  readonly messages: StoredMessage[] = [];
  readonly tokensIssued: { zone: string; via: 'secret' | 'x509' }[] = [];
  /** Every response status of the API, in order. */
  readonly statuses: number[] = [];
  /** Responses for the next API requests (before validation), first in first out. */
  readonly apiScript: ScriptedResponse[] = [];
  /** Responses for the next token requests. */
  readonly tokenScript: ScriptedResponse[] = [];
  /** Delay before an API request is handled (a slow service); a request whose client gave up meanwhile is dropped. */
  apiDelayMs = 0;
  /** While set, every API request gets it (a rate limit, an outage). */
  apiMode: ScriptedResponse | undefined;
  private readonly tokens = new Map<string, Token>();
  private api!: Server;
  private uaa!: Server;
  private certUaa!: Server;
  apiPort = 0;
  uaaPort = 0;
  certUaaPort = 0;

  constructor(
    private readonly pki: TestPki,
    private readonly options: SapServerOptions,
  ) {}

  async start(): Promise<void> {
    const tls = { key: this.pki.serverKey, cert: this.pki.serverCert };
    this.api = createServer(tls, (req, res) => void this.handleApi(req, res));
    this.uaa = createServer(tls, (req, res) => void this.handleToken(req, res, 'secret'));
    this.certUaa = createServer(
      { ...tls, ca: this.pki.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => void this.handleToken(req, res, 'x509'),
    );
    const listen = (s: Server) =>
      new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
    this.apiPort = await listen(this.api);
    this.uaaPort = await listen(this.uaa);
    this.certUaaPort = await listen(this.certUaa);
  }

  async stop(): Promise<void> {
    for (const s of [this.api, this.uaa, this.certUaa]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  get apiUrl(): string {
    return `https://api.${TEST_DOMAIN}:${this.apiPort}`;
  }

  uaaUrl(zone = this.options.providerZone): string {
    return `https://${zone}.uaa.${TEST_DOMAIN}:${this.uaaPort}`;
  }

  certUrl(zone = this.options.providerZone): string {
    return `https://${zone}.cert.uaa.${TEST_DOMAIN}:${this.certUaaPort}`;
  }

  /** Revokes every token issued so far (the API then answers 401 until a new one is fetched). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  private zoneOf(req: IncomingMessage): string {
    return (req.headers.host ?? '').split('.')[0] ?? '';
  }

  private async handleToken(req: IncomingMessage, res: ServerResponse, via: 'secret' | 'x509'): Promise<void> {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const scripted = this.tokenScript.shift();
    if (scripted) {
      res.writeHead(scripted.status, scripted.headers).end(scripted.body ?? '');
      return;
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/oauth/token')) {
      json(res, 404, { error: 'not_found' });
      return;
    }
    if (form.get('grant_type') !== 'client_credentials') {
      json(res, 400, { error: 'unsupported_grant_type' });
      return;
    }
    const zone = this.zoneOf(req);
    if (zone !== this.options.providerZone && !(this.options.subscriberZones ?? []).includes(zone)) {
      json(res, 401, { error: 'unauthorized', error_description: `unknown identity zone ${zone}` });
      return;
    }
    let clientId: string | null;
    if (via === 'x509') {
      const socket = req.socket;
      if (!(socket instanceof TLSSocket) || !socket.authorized || !socket.getPeerCertificate().subject) {
        json(res, 401, { error: 'unauthorized', error_description: 'client certificate required' });
        return;
      }
      clientId = form.get('client_id');
    } else {
      const auth = req.headers.authorization ?? '';
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
      if (secret === null || !same(secret, this.options.clientSecret)) {
        json(res, 401, { error: 'unauthorized', error_description: 'Bad credentials' });
        return;
      }
    }
    if (clientId !== this.options.clientId) {
      json(res, 401, { error: 'invalid_client', error_description: 'Bad credentials' });
      return;
    }
    const ttl = this.options.tokenTtlSeconds ?? 3600;
    const value = `eyJ.${randomUUID()}.sig`;
    this.tokens.set(value, { zone, expiresAt: Date.now() + ttl * 1000 });
    this.tokensIssued.push({ zone, via });
    json(res, 200, {
      access_token: value,
      token_type: 'bearer',
      expires_in: ttl,
      scope: 'auditlog!b2.write',
      jti: randomUUID(),
    });
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.apiDelayMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          req.socket.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, this.apiDelayMs);
        req.socket.once('close', done);
      });
      if (req.socket.destroyed) return;
    }
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      this.statuses.push(status);
      json(res, status, payload, headers);
    };
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && path === '/audit-log') {
      reply(200, {
        versions: [
          { version: 'v2', url: '/audit-log/oauth2/v2/' },
          { version: 'v2', url: '/audit-log/v2/' },
        ],
      });
      return;
    }
    const m = /^\/audit-log\/(oauth2\/v2|premium\/v2|v2)\/([a-z-]+)$/.exec(path);
    if (req.method !== 'POST' || !m || !ENDPOINTS.has(m[2]!)) {
      reply(404, { error: 'URL not found' });
      return;
    }
    const scripted = this.apiScript.shift() ?? this.apiMode;
    if (scripted) {
      this.statuses.push(scripted.status);
      res
        .writeHead(scripted.status, { 'Content-Type': 'application/json', ...scripted.headers })
        .end(scripted.body ?? '{}');
      return;
    }
    let zone: string;
    const auth = req.headers.authorization ?? '';
    if (m[1] === 'v2') {
      const expected = `Basic ${Buffer.from(`${this.options.basicUser ?? ''}:${this.options.basicPassword ?? ''}`).toString('base64')}`;
      if (this.options.basicUser === undefined || !same(auth, expected)) {
        reply(401, { error: 'missing or invalid Authorization header' });
        return;
      }
      zone = 'basic';
    } else {
      const token = auth.startsWith('Bearer ') ? this.tokens.get(auth.slice(7)) : undefined;
      if (token === undefined || token.expiresAt <= Date.now()) {
        reply(401, { error: 'missing or invalid Authorization header' });
        return;
      }
      zone = token.zone;
    }
    if (!/^application\/json/i.test(req.headers['content-type'] ?? '')) {
      reply(400, { error: 'cannot parse message: content type must be application/json' });
      return;
    }
    if (body.length > MAX_MESSAGE_BYTES) {
      reply(413, { error: 'The Audit log message size exceeds 10KB' });
      return;
    }
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      reply(400, { error: 'cannot parse message' });
      return;
    }
    const problem = validateMessage(m[2]!, message);
    if (problem !== undefined) {
      reply(400, { error: `invalid attributes: ${problem}` });
      return;
    }
    this.messages.push({ endpoint: m[2]!, path, body: message, zone, headers: req.headers });
    reply(201, { id: randomUUID() });
  }
}
