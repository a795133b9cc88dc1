import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';
import protobuf from 'protobufjs';
import { decodeLogsRequest, encodeLogsResponse } from './otlp-raw.js';
import { TEST_DOMAIN, type TestPki } from './tls.js';

/**
 * A test double of the SAP Audit Log Service NG ingestion, both wire formats, from what SAP's
 * public clients send (reference §5.4 and §6.3; wave2-facts §2): mutual TLS with a client
 * certificate from the test CA, nothing else; `POST /ingestion/v1/events` takes a JSON array of
 * envelopes (checked with a JSON schema, per envelope type, like CAP Java's test schemas);
 * `POST /v1/logs` takes an OTLP/HTTP protobuf `ExportLogsServiceRequest` (gzip or not) whose log
 * record bodies are `sap.auditlog.auditevent.v2` messages, decoded with protobufjs against
 * test/support/ng/auditevent-v2.proto and checked field by field (required fields as the published
 * schema's validation rules say, no unknown fields). A request with any invalid event is refused
 * whole with 400 naming the event and the problem (NG's real answer codes are not documented; the
 * CAP plugin's tests expect 403 for invalid data, which can be scripted). Failures and delays can
 * be scripted. Test code, never product code.
 */
export interface NgStoredEvent {
  readonly format: 'json' | 'otlp';
  /** `id` of the envelope, `cloudevents.event_id` of the log record. */
  readonly id: string;
  /** The envelope type, or the log record's event name. */
  readonly type: string;
  readonly tenant: string;
  /** JSON: the whole envelope. OTLP: the decoded catalog message (protobufjs object form, camelCase). */
  readonly body: Record<string, unknown>;
  /** OTLP: the log record (attributes as a plain map) and its resource and scope. */
  readonly record?: {
    readonly timeUnixNano: string;
    readonly observedTimeUnixNano: string;
    readonly severityNumber: number;
    readonly attributes: Record<string, string>;
    readonly resource: Record<string, string>;
    readonly scope: string;
    readonly schemaUrl: string;
  };
  /** Common name of the client certificate the request came with. */
  readonly clientCn: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface NgScriptedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

const V2 = 'sap.auditlog.auditevent.v2';
const PROTO = fileURLToPath(new URL('../../support/ng/auditevent-v2.proto', import.meta.url));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SOURCE_CHARS = /^[a-zA-Z0-9._/~-]+$/;
const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';
const MAX_BODY = 16 * 1024 * 1024;

const str = { type: 'string' } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
/** google.protobuf.Value in JSON: any JSON value but null. */
const value = { type: ['string', 'number', 'boolean', 'object', 'array'] } as const;

/** The payload of each envelope type (CAP Java's test schemas; v1 catalog field names in JSON form). */
const PAYLOADS: Record<string, object> = {
  dppDataAccess: {
    type: 'object',
    additionalProperties: false,
    required: ['channelType', 'channelId', 'dataSubjectType', 'dataSubjectId', 'objectType', 'objectId', 'attribute'],
    properties: {
      channelType: nonEmpty,
      channelId: nonEmpty,
      dataSubjectType: nonEmpty,
      dataSubjectId: nonEmpty,
      objectType: nonEmpty,
      objectId: nonEmpty,
      attribute: nonEmpty,
      value,
      attachmentType: str,
      attachmentId: str,
    },
  },
  dppDataModification: {
    type: 'object',
    additionalProperties: false,
    required: ['dataSubjectType', 'dataSubjectId', 'objectType', 'objectId', 'attribute'],
    properties: {
      dataSubjectType: nonEmpty,
      dataSubjectId: nonEmpty,
      objectType: nonEmpty,
      objectId: nonEmpty,
      attribute: nonEmpty,
      newValue: value,
      oldValue: value,
    },
  },
  configurationChange: {
    type: 'object',
    additionalProperties: false,
    required: ['newValue', 'oldValue', 'propertyName', 'objectType'],
    properties: { newValue: value, oldValue: value, propertyName: nonEmpty, objectType: str, objectId: str },
  },
  legacySecurityWrapper: {
    type: 'object',
    additionalProperties: false,
    required: ['origEvent'],
    properties: { origEvent: nonEmpty },
  },
};

/** The envelope (v1 Metadata in JSON form: camelCase names, `infrastructure` and `platform` one-ofs). */
const ENVELOPE = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'specversion', 'source', 'type', 'time', 'data'],
  properties: {
    id: nonEmpty,
    specversion: { enum: [1, '1', '1.0'] },
    source: { type: 'string', pattern: '^/[^/]+/[^/]+/[a-zA-Z0-9._/~-]+$' },
    type: { enum: Object.keys(PAYLOADS) },
    time: { type: 'string', pattern: ISO_TIME },
    dataschema: str,
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['metadata', 'data'],
      properties: {
        metadata: {
          type: 'object',
          additionalProperties: false,
          required: ['ts', 'infrastructure', 'platform'],
          properties: {
            ts: { type: 'string', pattern: ISO_TIME },
            sourceIp: { type: 'array', items: nonEmpty },
            userImpersonatedId: str,
            userInitiatorId: str,
            appId: str,
            tenantId: str,
            userSessionContextId: str,
            appContext: { type: 'object', additionalProperties: str },
            infrastructure: {
              type: 'object',
              minProperties: 1,
              additionalProperties: false,
              properties: {
                k8s: {
                  type: 'object',
                  additionalProperties: false,
                  properties: { infrastructureRegion: str, cluster: str, node: str, pod: str },
                },
                cf: {
                  type: 'object',
                  additionalProperties: false,
                  properties: { btpregion: str, orgId: str, spaceId: str, appId: str },
                },
                other: { type: 'object', additionalProperties: false, properties: { runtimeType: str } },
                app: { type: 'object', additionalProperties: false, properties: { image: str, version: str } },
              },
            },
            platform: {
              type: 'object',
              minProperties: 1,
              maxProperties: 1,
              additionalProperties: false,
              properties: {
                btp: { type: 'object', properties: { globalAccountId: str, subAccountId: str } },
                unifiedServices: { type: 'object' },
                other: { type: 'object', additionalProperties: false, properties: { platformName: str } },
              },
            },
          },
        },
        data: { type: 'object', minProperties: 1, maxProperties: 1 },
      },
    },
  },
};

/** What each catalog message requires (the published schema's validation rules), beyond `common`. */
const REQUIRED: Record<string, { strings: string[]; values: string[] }> = {
  DppDataAccess: {
    strings: ['channelType', 'channelId', 'dataSubjectType', 'dataSubjectId', 'objectType', 'objectId', 'attribute'],
    values: [],
  },
  DppDataModification: {
    strings: ['dataSubjectType', 'dataSubjectId', 'objectType', 'objectId', 'attribute'],
    values: [],
  },
  DppDataDelete: { strings: ['dataSubjectType', 'dataSubjectId', 'objectType', 'objectId', 'attribute'], values: [] },
  ConfigurationChange: { strings: ['propertyName'], values: ['newValue', 'oldValue'] },
  ConfigurationDelete: { strings: ['propertyName'], values: ['value'] },
  ZzzCustomEvent: { strings: [], values: ['custom'] },
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

class Invalid extends Error {}

export class SapAuditLogNgServer {
  readonly events: NgStoredEvent[] = [];
  /** Every response status, in order. */
  readonly statuses: number[] = [];
  /** Why each refused request was refused, in order. */
  readonly refusals: string[] = [];
  /** Number of log records / envelopes of each request, in order. */
  readonly requestSizes: number[] = [];
  /** Responses for the next requests (before validation), first in first out. */
  readonly script: NgScriptedResponse[] = [];
  /** While set, every request gets it. */
  mode: NgScriptedResponse | undefined;
  /** Delay before a request is handled. */
  delayMs = 0;
  /** Refuse (400) any event whose JSON contains this text: a record the service finds invalid. */
  poison: string | undefined;
  private server!: Server;
  port = 0;
  private readonly ajvEnvelopes: ValidateFunction;
  private readonly payloads: Record<string, ValidateFunction>;
  private readonly types = new Map<string, protobuf.Type>();

  constructor(private readonly pki: TestPki) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    this.ajvEnvelopes = ajv.compile({ type: 'array', minItems: 1, items: ENVELOPE });
    this.payloads = Object.fromEntries(Object.entries(PAYLOADS).map(([k, s]) => [k, ajv.compile(s)]));
    const root = protobuf.loadSync(PROTO);
    for (const name of Object.keys(REQUIRED)) this.types.set(`${V2}.${name}`, root.lookupType(`${V2}.${name}`));
  }

  async start(): Promise<void> {
    this.server = createServer(
      {
        key: this.pki.serverKey,
        cert: this.pki.serverCert,
        ca: this.pki.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => void this.handle(req, res),
    );
    this.port = await new Promise<number>((resolve) =>
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)),
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    return `https://ng.${TEST_DOMAIN}:${this.port}`;
  }

  private reply(
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): void {
    this.statuses.push(status);
    res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers }).end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (res.destroyed) return;
    const scripted = this.script.shift() ?? this.mode;
    if (scripted) {
      this.reply(res, scripted.status, scripted.body ?? '', scripted.headers);
      return;
    }
    const socket = req.socket;
    const subjectCn =
      socket instanceof TLSSocket && socket.authorized ? (socket.getPeerCertificate().subject?.CN ?? '') : '';
    const cn = Array.isArray(subjectCn) ? subjectCn.join(',') : subjectCn;
    try {
      if (req.method !== 'POST') throw new Invalid(`method ${req.method} not allowed`);
      let body = raw;
      const encoding = req.headers['content-encoding'];
      if (encoding === 'gzip') body = gunzipSync(raw);
      else if (encoding !== undefined && encoding !== 'identity') throw new Invalid(`content-encoding ${encoding}`);
      if (req.url === '/ingestion/v1/events') {
        if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
          throw new Invalid('content-type must be JSON');
        const events = this.checkJson(body, cn, req.headers);
        this.events.push(...events);
        this.requestSizes.push(events.length);
        this.reply(res, 201, '');
      } else if (req.url === '/v1/logs') {
        if (req.headers['content-type'] !== 'application/x-protobuf')
          throw new Invalid('content-type must be application/x-protobuf');
        const events = this.checkOtlp(body, cn, req.headers);
        this.events.push(...events);
        this.requestSizes.push(events.length);
        this.reply(res, 200, encodeLogsResponse(), { 'Content-Type': 'application/x-protobuf' });
      } else {
        this.reply(res, 404, JSON.stringify({ error: `no route ${req.url}` }), { 'Content-Type': 'application/json' });
      }
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      this.refusals.push(err.message);
      this.reply(res, 400, JSON.stringify({ error: err.message }), { 'Content-Type': 'application/json' });
    }
  }

  private checkJson(body: Buffer, cn: string, headers: Record<string, string | string[] | undefined>): NgStoredEvent[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Invalid('body is not JSON');
    }
    if (!this.ajvEnvelopes(parsed)) {
      const e = this.ajvEnvelopes.errors![0]!;
      throw new Invalid(`envelope ${e.instancePath} ${e.message ?? ''}`);
    }
    const envelopes = parsed as Record<string, unknown>[];
    return envelopes.map((env, i) => {
      const type = env['type'] as string;
      const data = (env['data'] as { data: Record<string, unknown> }).data;
      const payload = data[type];
      if (payload === undefined) throw new Invalid(`[${i}].data.data has no ${type}`);
      const check = this.payloads[type]!;
      if (!check(payload))
        throw new Invalid(
          `[${i}].data.data.${type}${check.errors![0]!.instancePath} ${check.errors![0]!.message ?? ''}`,
        );
      if (!UUID.test(env['id'] as string)) throw new Invalid(`[${i}].id is not a UUID`);
      if (type === 'legacySecurityWrapper') {
        try {
          JSON.parse((payload as { origEvent: string }).origEvent);
        } catch {
          throw new Invalid(`[${i}] origEvent is not JSON text`);
        }
      }
      if (this.poison !== undefined && JSON.stringify(env).includes(this.poison)) throw new Invalid(`[${i}] refused`);
      const tenant = (env['source'] as string).split('/')[3]!;
      return { format: 'json' as const, id: env['id'] as string, type, tenant, body: env, clientCn: cn, headers };
    });
  }

  private checkOtlp(body: Buffer, cn: string, headers: Record<string, string | string[] | undefined>): NgStoredEvent[] {
    let request: Record<string, unknown>;
    try {
      request = decodeLogsRequest(body);
    } catch (err) {
      throw new Invalid(`not an ExportLogsServiceRequest: ${(err as Error).message}`);
    }
    const out: NgStoredEvent[] = [];
    const resourceLogs = (request['resourceLogs'] ?? []) as Record<string, unknown>[];
    if (resourceLogs.length === 0) throw new Invalid('no resourceLogs');
    for (const rl of resourceLogs) {
      const resource = plainAttributes((rl['resource'] as { attributes?: unknown[] } | undefined)?.attributes);
      const keys = Object.keys(resource).sort();
      if (keys.join() !== 'sap.ucl.deployment_id,sap.ucl.system_namespace,service.name')
        throw new Invalid(`resource attributes are ${keys.join(', ')}`);
      for (const k of ['sap.ucl.deployment_id', 'sap.ucl.system_namespace'])
        if (!SOURCE_CHARS.test(resource[k]!))
          throw new Invalid(`resource ${k} has characters outside [a-zA-Z0-9._/~-]`);
      for (const sl of (rl['scopeLogs'] ?? []) as Record<string, unknown>[]) {
        const scope = (sl['scope'] as { name?: string } | undefined)?.name ?? '';
        const schemaUrl = (sl['schemaUrl'] as string | undefined) ?? '';
        if (scope !== 'auditlog') throw new Invalid(`scope name is "${scope}", not auditlog`);
        if (!schemaUrl.endsWith('/auditevent/v2/auditevent.proto'))
          throw new Invalid('scope schema_url is not the v2 catalog');
        for (const lr of (sl['logRecords'] ?? []) as Record<string, unknown>[]) {
          out.push(this.checkLogRecord(lr, resource, scope, schemaUrl, cn, headers));
        }
      }
    }
    if (out.length === 0) throw new Invalid('no log records');
    return out;
  }

  private checkLogRecord(
    lr: Record<string, unknown>,
    resource: Record<string, string>,
    scope: string,
    schemaUrl: string,
    cn: string,
    headers: Record<string, string | string[] | undefined>,
  ): NgStoredEvent {
    const attributes = plainAttributes(lr['attributes'] as unknown[] | undefined);
    const keys = Object.keys(attributes).sort().join();
    if (keys !== 'cloudevents.event_id,sap.auditlogging.mime_type,sap.tenancy.tenant_id')
      throw new Invalid(`log record attributes are ${keys}`);
    const id = attributes['cloudevents.event_id']!;
    if (!UUID.test(id)) throw new Invalid(`cloudevents.event_id ${id} is not a UUID`);
    const tenant = attributes['sap.tenancy.tenant_id']!;
    if (!SOURCE_CHARS.test(tenant)) throw new Invalid(`sap.tenancy.tenant_id ${tenant} has invalid characters`);
    if (attributes['sap.auditlogging.mime_type'] !== 'application/protobuf')
      throw new Invalid('mime type is not application/protobuf');
    if (lr['severityNumber'] !== 9) throw new Invalid(`${id}: severity_number is not INFO (9)`);
    if (!(BigInt((lr['timeUnixNano'] as string | undefined) ?? '0') > 0n))
      throw new Invalid(`${id}: no time_unix_nano`);
    const eventName = (lr['eventName'] as string | undefined) ?? '';
    const type = this.types.get(eventName);
    if (type === undefined) throw new Invalid(`${id}: event_name "${eventName}" is not a known ${V2} message`);
    const bytes = (lr['body'] as { bytesValue?: Buffer } | undefined)?.bytesValue;
    if (bytes === undefined) throw new Invalid(`${id}: body is not bytes`);
    let decoded: protobuf.Message;
    try {
      decoded = type.decode(bytes);
    } catch (err) {
      throw new Invalid(`${id}: body is not a ${eventName}: ${(err as Error).message}`);
    }
    // Fields this schema does not know would be dropped by decoding: the re-encoded message would be shorter.
    if (type.encode(decoded).finish().length !== bytes.length)
      throw new Invalid(`${id}: body has fields ${eventName} does not have`);
    const message = type.toObject(decoded, { longs: String, defaults: false }) as Record<string, unknown>;
    const common = message['common'] as Record<string, unknown> | undefined;
    if (common === undefined) throw new Invalid(`${id}: common is required`);
    if (!common['userInitiatorId']) throw new Invalid(`${id}: common.user_initiator_id is required`);
    if (common['timestamp'] === undefined) throw new Invalid(`${id}: common.timestamp is required`);
    if (common['tenantId'] !== tenant) throw new Invalid(`${id}: common.tenant_id differs from sap.tenancy.tenant_id`);
    const rules = REQUIRED[eventName.slice(V2.length + 1)]!;
    for (const f of rules.strings) if (!message[f]) throw new Invalid(`${id}: ${f} is required`);
    for (const f of rules.values) if (message[f] === undefined) throw new Invalid(`${id}: ${f} is required`);
    if (this.poison !== undefined && JSON.stringify(message).includes(this.poison)) throw new Invalid(`${id}: refused`);
    return {
      format: 'otlp',
      id,
      type: eventName,
      tenant,
      body: message,
      record: {
        timeUnixNano: lr['timeUnixNano'] as string,
        observedTimeUnixNano: (lr['observedTimeUnixNano'] as string | undefined) ?? '0',
        severityNumber: lr['severityNumber'],
        attributes,
        resource,
        scope,
        schemaUrl,
      },
      clientCn: cn,
      headers,
    };
  }
}

/** OTLP KeyValues with string values as a plain map; any other value type is refused. */
function plainAttributes(list: unknown[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of (list ?? []) as { key: string; value?: { stringValue?: string } }[]) {
    const v = kv.value?.stringValue;
    if (typeof v !== 'string') throw new Invalid(`attribute ${kv.key} is not a string`);
    if (kv.key in out) throw new Invalid(`attribute ${kv.key} given twice`);
    out[kv.key] = v;
  }
  return out;
}
