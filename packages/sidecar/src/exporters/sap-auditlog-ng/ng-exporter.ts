import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ngRecord, Tenant } from '@otel-audit/semconv';
import type { Exporter, ExportOutcome } from '../../component.js';
import { RetryableExportError } from '../../model/errors.js';
import { eventTypeOf, parseLocalRecord, type SpooledRecord } from '../../model/spooled-record.js';
import { NetworkError, retryAfterMs, send, snippet } from '../../http/client.js';
import { tlsAgentOptions } from '../../http/tls-client.js';
import { CredentialWatch } from '../../sap/credential-watch.js';
import { resolveNgCredentials, type NgCredentials } from '../../sap/ng-credentials.js';
import type { Logger } from '../../telemetry/logger.js';
import { mapConcurrent } from '../../util/map-concurrent.js';
import { parseDuration, parseSize } from '../../util/units.js';
import type { SapAuditLogNgConfig } from './config.js';
import { envelopesJson, infrastructureOf, MIME_JSON } from './json-body.js';
import type { NgRecordInput, NgSender } from './ng-common.js';
import { encodeRecordLogs, logsRequest, partialSuccess } from './otlp-body.js';

type Env = Readonly<Record<string, string | undefined>>;

const gzipAsync = promisify(gzip);

/** What became of a group of records sent in one request. */
export type Result =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number };

/** One record ready to send: its NG events encoded for the configured format. */
interface Prepared {
  readonly index: number;
  /** OTLP: the record's log records; JSON: its envelopes joined by commas. */
  readonly bytes: Buffer;
}

interface Connection {
  readonly credentials: NgCredentials;
  readonly url: URL;
  readonly agent: HttpsAgent | HttpAgent;
  readonly sender: NgSender;
}

const TITLE = 'SAP Audit Log Service NG';

/** Why records retrieved from SAP are never sent to NG (the factory's `refuses`, and the guard in `prepare`). */
export const RETRIEVED_NG_REASON =
  'they were retrieved from SAP Audit Log Service and would be written back to it (use a pipeline without sap_auditlog_ng for the retrieval)';

/**
 * The `sap_auditlog_ng` exporter: each record becomes one NG event per attribute (see
 * `ngRecord` in @otel-audit/semconv), sent over mutual TLS with the `auditlog-ng` binding's client
 * certificate, as OTLP/HTTP protobuf log records (`format: otlp`) or as the JSON envelope array of
 * `/ingestion/v1/events` (`format: json`). A request carries many records; one refused for good is
 * found by halving the request, so the rest still go through.
 */
export class SapAuditLogNgExporter implements Exporter {
  private connection: Connection | undefined;
  private readonly watch: CredentialWatch<NgCredentials>;
  private tls: AgentOptions = {};
  private readonly timeoutMs: number;
  private readonly maxRequestBytes: number;
  private readonly gzip: boolean;
  private readonly infrastructure: Record<string, unknown>;
  private readonly appId: string | undefined;

  constructor(
    readonly id: string,
    private readonly config: SapAuditLogNgConfig,
    private readonly logger: Logger,
    private readonly env: Env = process.env,
  ) {
    this.timeoutMs = parseDuration(config.timeout);
    this.maxRequestBytes = parseSize(config.max_request_size);
    this.gzip = config.compression === 'gzip';
    this.infrastructure = infrastructureOf(env);
    this.appId = config.app_id ?? vcapApplicationId(env);
    this.watch = new CredentialWatch({
      title: TITLE,
      resolve: () => resolveNgCredentials(this.config, this.env),
      onChange: (next, previous) => this.connect(next, previous !== undefined),
      intervalMs: parseDuration(config.reload_interval),
      logger,
    });
  }

  async start(): Promise<void> {
    this.tls = await tlsAgentOptions(this.config.tls, 'sap_auditlog_ng');
    await this.watch.start();
  }

  private connect(credentials: NgCredentials, rotated: boolean): void {
    const base = this.config.format === 'otlp' ? (this.config.endpoint ?? credentials.url) : credentials.url;
    const path = this.config.format === 'otlp' ? this.config.logs_path : '/ingestion/v1/events';
    const url = new URL(base.replace(/\/+$/, '') + path);
    const agent =
      url.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            maxSockets: this.config.max_concurrency,
            ...this.tls,
            cert: credentials.cert,
            key: credentials.key,
            ...(credentials.passphrase === undefined ? {} : { passphrase: credentials.passphrase }),
          })
        : new HttpAgent({ keepAlive: true, maxSockets: this.config.max_concurrency });
    const old = this.connection;
    this.connection = {
      credentials,
      url,
      agent,
      sender: {
        region: credentials.region,
        namespace: credentials.namespace,
        deploymentId: this.config.deployment_id ?? credentials.region,
        serviceName: this.config.service_name,
        appId: this.appId,
        schemaUrl: this.config.schema_url,
        infrastructure: this.infrastructure,
      },
    };
    if (rotated && old !== undefined) setTimeout(() => old.agent.destroy(), this.timeoutMs * 2).unref();
    else
      this.logger.info(
        { source: credentials.source, url: url.href, format: this.config.format },
        `${TITLE} exporter ready`,
      );
  }

  async export(records: readonly SpooledRecord[], signal?: AbortSignal): Promise<ExportOutcome> {
    const connection = this.connection;
    if (connection === undefined) throw new RetryableExportError(this.watch.missing ?? `no ${TITLE} credentials yet`);
    const rejected: { index: number; reason: string }[] = [];
    const retry: number[] = [];
    let retryReason = '';
    let retryAfter: number | undefined;
    const noteRetry = (index: number, reason: string, after?: number) => {
      retry.push(index);
      retryReason ||= reason;
      if (after !== undefined) retryAfter = Math.max(retryAfter ?? 0, after);
    };
    const ready: Prepared[] = [];
    records.forEach((record, index) => {
      const p = this.prepare(record, index, connection.sender);
      if ('bytes' in p) ready.push(p);
      else if (p.kind === 'rejected') rejected.push({ index, reason: p.reason });
      else noteRetry(index, p.reason);
    });
    const groups = this.requests(ready);
    const outcomes = await mapConcurrent(groups, this.config.max_concurrency, (g) =>
      this.sendGroup(connection, g, signal),
    );
    for (const { group, result } of outcomes.flat()) {
      for (const p of group) {
        if (result.kind === 'rejected') rejected.push({ index: p.index, reason: result.reason });
        else if (result.kind === 'retry') noteRetry(p.index, result.reason, result.retryAfterMs);
      }
    }
    return {
      ...(rejected.length > 0 ? { rejected } : {}),
      ...(retry.length > 0 ? { retry: { indexes: retry, reason: retryReason, retryAfterMs: retryAfter } } : {}),
    };
  }

  /** A record's NG events encoded, or why it cannot be sent (now, or ever). */
  private prepare(
    record: SpooledRecord,
    index: number,
    sender: NgSender,
  ): Prepared | Exclude<Result, { kind: 'delivered' }> {
    const type = eventTypeOf(record);
    // Refused by `validate` already; this guards records spooled under an earlier config.
    if (type === undefined) return { kind: 'rejected', reason: RETRIEVED_NG_REASON };
    const local = parseLocalRecord(record);
    const message = local.message;
    let tenantId = message.tenant;
    if (tenantId === Tenant.PROVIDER) {
      if (this.config.tenant_id === undefined) {
        // A setting is missing, not something wrong with the record: it waits until the config has it.
        return {
          kind: 'retry',
          reason: `audit.tenant is ${Tenant.PROVIDER} and the exporter has no tenant_id: set tenant_id (the provider's tenant id) in the ${this.id} config`,
        };
      }
      tenantId = this.config.tenant_id;
    } else if (tenantId === Tenant.SUBSCRIBER) {
      return {
        kind: 'rejected',
        reason: `audit.tenant is ${Tenant.SUBSCRIBER}: the ${TITLE} takes tenant ids; send the subscriber's tenant (zone) id in audit.tenant`,
      };
    }
    const input: NgRecordInput = {
      ng: ngRecord(type.ng, message, local.success),
      tenantId,
      timeMs: record.eventTime,
      receivedAt: record.receivedAt,
    };
    const bytes =
      this.config.format === 'otlp'
        ? encodeRecordLogs(input, sender)
        : Buffer.from(envelopesJson(input, sender).join(','), 'utf8');
    return { index, bytes };
  }

  /** Records in request-sized groups (a record's events are never split across requests). */
  private requests(ready: readonly Prepared[]): Prepared[][] {
    const groups: Prepared[][] = [];
    let group: Prepared[] = [];
    let size = 0;
    for (const p of ready) {
      if (group.length > 0 && size + p.bytes.length > this.maxRequestBytes) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(p);
      size += p.bytes.length + 1;
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }

  /** Sends a group; a group refused for good is halved until the refused records are alone. */
  private async sendGroup(
    connection: Connection,
    group: readonly Prepared[],
    signal: AbortSignal | undefined,
  ): Promise<{ group: readonly Prepared[]; result: Result }[]> {
    const result = await this.post(connection, group, signal);
    if (result.kind !== 'rejected' || group.length === 1) return [{ group, result }];
    const half = Math.ceil(group.length / 2);
    const [a, b] = await Promise.all([
      this.sendGroup(connection, group.slice(0, half), signal),
      this.sendGroup(connection, group.slice(half), signal),
    ]);
    return [...a, ...b];
  }

  private async post(
    connection: Connection,
    group: readonly Prepared[],
    signal: AbortSignal | undefined,
  ): Promise<Result> {
    if (signal?.aborted) return SHUTTING_DOWN;
    const otlp = this.config.format === 'otlp';
    const raw = otlp
      ? logsRequest(
          group.map((p) => p.bytes),
          connection.sender,
        )
      : Buffer.concat([OPEN, ...group.flatMap((p, i) => (i === 0 ? [p.bytes] : [COMMA, p.bytes])), CLOSE]);
    const body = this.gzip ? await gzipAsync(raw, { level: 1 }) : raw;
    let res;
    try {
      res = await send(connection.url, {
        method: 'POST',
        headers: {
          'Content-Type': otlp ? 'application/x-protobuf' : MIME_JSON,
          'Content-Length': body.length,
          ...(this.gzip ? { 'Content-Encoding': 'gzip' } : {}),
        },
        body,
        agent: connection.agent,
        timeoutMs: this.timeoutMs,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (err) {
      if (signal?.aborted) return SHUTTING_DOWN;
      if (err instanceof NetworkError) {
        if (/certificate|handshake|alert|bad decrypt|ssl/i.test(err.message)) void this.watch.reloadIfChanged();
        return { kind: 'retry', reason: `${TITLE} ${err.message}` };
      }
      throw err;
    }
    const result = classify(res.status, res.body, res.headers);
    if (result.kind === 'delivered' && otlp && res.bytes.length > 0) {
      const partial = partialSuccess(res.bytes);
      if (partial.rejected > 0)
        return {
          kind: 'rejected',
          reason: `${TITLE} rejected ${partial.rejected} log records: ${snippet(partial.message)}`,
        };
    }
    return result;
  }

  async shutdown(): Promise<void> {
    await this.watch.stop();
    this.connection?.agent.destroy();
  }
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

const SHUTTING_DOWN: Result = {
  kind: 'retry',
  reason: `shutting down before the ${TITLE} confirmed the records: they are sent again after the restart`,
};

/**
 * The NG ingestion's answers: 2xx delivered (CAP's client accepts 200, 201 and 204); 400, 403
 * (what NG answers for invalid data, per the CAP plugin's tests) and 413 are about the records:
 * dead letter with the reason; 429 and 5xx are load or outage: retry, honouring Retry-After. Any
 * other status (401, 404, 415 …) means a wrong URL or setup, not a bad record: keep the records
 * and retry while the metrics and logs say what is wrong.
 */
export function classify(status: number, body: string, headers: Record<string, string | string[] | undefined>): Result {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const text = body && /^[\x20-\x7e\s]*$/.test(body.slice(0, 300)) ? `: ${snippet(body)}` : '';
  const reason = `${TITLE} HTTP ${status}${text}`;
  if (status === 400 || status === 403 || status === 413) return { kind: 'rejected', reason };
  return { kind: 'retry', reason, retryAfterMs: retryAfterMs(headers) };
}

function vcapApplicationId(env: Env): string | undefined {
  const raw = env['VCAP_APPLICATION'];
  if (!raw) return undefined;
  try {
    const id = (JSON.parse(raw) as { application_id?: unknown }).application_id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
