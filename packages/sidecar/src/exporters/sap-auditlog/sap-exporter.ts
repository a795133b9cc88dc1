import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent, AgentOptions } from 'node:https';
import { isSubdomain } from '@otel-audit/semconv';
import type { DeliveredCallback, Exporter, ExportOutcome } from '../../component.js';
import { RetryableExportError } from '../../model/errors.js';
import { eventTypeOf, type SpooledRecord } from '../../model/spooled-record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { SapAuditLogConfig } from './config.js';
import { CredentialWatch } from '../../sap/credential-watch.js';
import { resolveCredentials, type AuditLogCredentials } from '../../sap/credentials.js';
import { createAgent, NetworkError, retryAfterMs, send, snippet } from '../../http/client.js';
import { tlsAgentOptions } from '../../http/tls-client.js';
import { TokenError, TokenProvider } from '../../sap/token-provider.js';
import { mapConcurrent } from '../../util/map-concurrent.js';
import { parseDuration } from '../../util/units.js';

type Env = Readonly<Record<string, string | undefined>>;

const TITLE = 'SAP Audit Log Service';

/** What became of one message. */
type Result =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number };

/** Everything derived from one set of credentials (replaced as a whole when they rotate). */
interface Connection {
  readonly credentials: AuditLogCredentials;
  readonly apiBase: URL;
  /** `/audit-log/oauth2/v2/`, `/audit-log/premium/v2/` or `/audit-log/v2/`. */
  readonly pathPrefix: string;
  readonly agent: HttpAgent | HttpsAgent;
  readonly tokens: TokenProvider | undefined;
  readonly basicAuth: string | undefined;
}

/**
 * The `sap_auditlog` exporter: one POST per message to the SAP Audit Log Service write API v2
 * (oauth2 and premium plans with XSUAA tokens from a secret or an X.509 certificate; the standard
 * plan with basic auth), a keep-alive pool with bounded concurrency, and SAP's status codes mapped
 * to delivered / dead letter / retry in one place (`classify`).
 */
export class SapAuditLogExporter implements Exporter {
  private connection: Connection | undefined;
  private readonly watch: CredentialWatch<AuditLogCredentials>;
  private tls: AgentOptions = {};
  private readonly timeoutMs: number;
  private readonly appHeaders: Record<string, string>;

  constructor(
    readonly id: string,
    private readonly config: SapAuditLogConfig,
    private readonly logger: Logger,
    private readonly env: Env = process.env,
  ) {
    this.timeoutMs = parseDuration(config.timeout);
    this.appHeaders = applicationHeaders(env);
    // Without credentials the exporter still starts: records are accepted and wait in the spool (the
    // exporter shows as failing, with the reason) until a binding appears; a mounted binding that
    // rotates is picked up.
    this.watch = new CredentialWatch({
      title: TITLE,
      resolve: () => resolveCredentials(this.config, this.env),
      onChange: (next, previous) => this.connect(next, previous !== undefined),
      intervalMs: parseDuration(config.reload_interval),
      logger,
    });
  }

  async start(): Promise<void> {
    this.tls = await tlsAgentOptions(this.config.tls, 'sap_auditlog');
    await this.watch.start();
  }

  private connect(credentials: AuditLogCredentials, rotated: boolean): void {
    const apiBase = new URL(credentials.url);
    const pathPrefix = apiPrefix(this.config.api_path, credentials, apiBase);
    const basic = credentials.uaa === undefined;
    const old = this.connection;
    this.connection = {
      credentials,
      apiBase,
      pathPrefix,
      agent: createAgent(credentials.url, this.config.max_concurrency, this.tls),
      tokens: basic ? undefined : new TokenProvider(credentials, this.tls, this.timeoutMs),
      basicAuth: basic
        ? `Basic ${Buffer.from(`${credentials.user!}:${credentials.password!}`).toString('base64')}`
        : undefined,
    };
    if (rotated) {
      setTimeout(() => closeConnection(old), this.timeoutMs * 2).unref();
      return;
    }
    this.logger.info(
      {
        source: credentials.source,
        url: credentials.url,
        path: pathPrefix,
        auth: basic ? 'basic' : credentials.uaa.clientsecret === undefined ? 'x509' : 'client secret',
      },
      `${TITLE} exporter ready`,
    );
  }

  async export(
    records: readonly SpooledRecord[],
    signal?: AbortSignal,
    delivered?: DeliveredCallback,
  ): Promise<ExportOutcome> {
    if (this.connection === undefined)
      throw new RetryableExportError(this.watch.missing ?? `no ${TITLE} credentials yet`);
    // Each message is reported as SAP confirms it: after a crash only unconfirmed ones are sent again.
    const results = await mapConcurrent(records, this.config.max_concurrency, async (r, index) => {
      const result = await this.deliver(r, signal);
      if (result.kind === 'delivered') delivered?.([index]);
      return result;
    });
    const rejected: { index: number; reason: string }[] = [];
    const retry: number[] = [];
    let retryReason = '';
    let retryAfter: number | undefined;
    results.forEach((res, index) => {
      if (res.kind === 'rejected') rejected.push({ index, reason: res.reason });
      else if (res.kind === 'retry') {
        retry.push(index);
        retryReason ||= res.reason;
        if (res.retryAfterMs !== undefined) retryAfter = Math.max(retryAfter ?? 0, res.retryAfterMs);
      }
    });
    return {
      ...(rejected.length > 0 ? { rejected } : {}),
      ...(retry.length > 0 ? { retry: { indexes: retry, reason: retryReason, retryAfterMs: retryAfter } } : {}),
    };
  }

  private async deliver(record: SpooledRecord, signal: AbortSignal | undefined): Promise<Result> {
    if (signal?.aborted) return SHUTTING_DOWN;
    const connection = this.connection!;
    const type = eventTypeOf(record);
    // Refused by `validate` already; this guards records spooled under an earlier config.
    if (type === undefined) return { kind: 'rejected', reason: RETRIEVED_REASON };
    const body = JSON.stringify((JSON.parse(record.json) as { message: unknown }).message);
    const size = Buffer.byteLength(body);
    if (size > this.config.max_message_bytes) {
      return {
        kind: 'rejected',
        reason: `message is ${size} bytes; the SAP Audit Log Service accepts at most ${this.config.max_message_bytes} (it answers 413 over 10 KB)`,
      };
    }
    const url = new URL(connection.pathPrefix + type.sapEndpoint, connection.apiBase);
    const subdomain = connection.tokens === undefined ? undefined : record.tenantSubdomain;
    // Validated on receipt; this guards records spooled or replayed from before that check.
    if (subdomain !== undefined && !isSubdomain(subdomain)) {
      return {
        kind: 'rejected',
        reason: 'audit.tenant.subdomain is not a valid subdomain; no token can be fetched for it',
      };
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      let authorization: string;
      try {
        authorization = connection.basicAuth ?? `Bearer ${await connection.tokens!.token(subdomain)}`;
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        if (err.credentialsRejected) void this.watch.reloadIfChanged();
        return { kind: 'retry', reason: err.message, retryAfterMs: err.retryAfterMs };
      }
      let res;
      try {
        res = await send(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json; charset=UTF-8',
            'Content-Length': size,
            Authorization: authorization,
            ...this.appHeaders,
          },
          body,
          agent: connection.agent,
          timeoutMs: this.timeoutMs,
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (err) {
        if (signal?.aborted) return SHUTTING_DOWN;
        if (err instanceof NetworkError) return { kind: 'retry', reason: `SAP Audit Log Service ${err.message}` };
        throw err;
      }
      const result = classify(res.status, res.body, res.headers);
      if (result !== 'unauthorized') return result;
      if (attempt === 0 && connection.tokens !== undefined) {
        // The token may have expired or been revoked early: fetch a new one and try once more.
        connection.tokens.invalidate(subdomain, authorization.slice('Bearer '.length));
        continue;
      }
      void this.watch.reloadIfChanged();
      return {
        kind: 'retry',
        reason: `SAP Audit Log Service answers 401 even with a fresh ${connection.basicAuth ? 'user/password' : 'token'}: check the binding (${connection.credentials.source})`,
      };
    }
    return { kind: 'retry', reason: 'unreachable' };
  }

  async shutdown(): Promise<void> {
    await this.watch.stop();
    closeConnection(this.connection);
  }
}

/** Why records retrieved from SAP are never sent to it (the exporter factory's `refuses`, and the guard in `deliver`). */
export const RETRIEVED_REASON =
  'they were retrieved from SAP Audit Log Service and would be written back to it (use a pipeline without sap_auditlog for the retrieval)';

const SHUTTING_DOWN: Result = {
  kind: 'retry',
  reason: 'shutting down before the SAP Audit Log Service confirmed the message: it is sent again after the restart',
};

/**
 * SAP's write API status codes (reference §1.7): 2xx delivered; 400, 403 and 413 are about the
 * message: dead letter with SAP's reason; 401 is about the token; 429 and 5xx are load or outage:
 * retry, honouring Retry-After. Any other status (404, 405, 415 …) means a wrong URL or setup,
 * not a bad record: keep the records and retry while the metrics and logs say what is wrong.
 */
export function classify(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): Result | 'unauthorized' {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const reason = `SAP Audit Log Service HTTP ${status}${body ? `: ${snippet(body)}` : ''}`;
  if (status === 400 || status === 403 || status === 413) return { kind: 'rejected', reason };
  if (status === 401) return 'unauthorized';
  return { kind: 'retry', reason, retryAfterMs: retryAfterMs(headers) };
}

/** The write API path prefix for a plan (reference §0, §1.1). */
export function apiPrefix(setting: SapAuditLogConfig['api_path'], credentials: AuditLogCredentials, url: URL): string {
  const choice =
    setting !== 'auto'
      ? setting
      : credentials.uaa === undefined
        ? 'standard'
        : credentials.plan === 'premium' && url.port === ''
          ? 'premium' // SAP Converged Cloud's premium endpoint has no port; on AWS it is :6081 with the oauth2 path
          : 'oauth2';
  return choice === 'standard'
    ? '/audit-log/v2/'
    : choice === 'premium'
      ? '/audit-log/premium/v2/'
      : '/audit-log/oauth2/v2/';
}

/** `XS_AUDIT_ORG`, `XS_AUDIT_SPACE` and `XS_AUDIT_APP` from `VCAP_APPLICATION`, as SAP's clients send them. */
function applicationHeaders(env: Env): Record<string, string> {
  const raw = env['VCAP_APPLICATION'];
  if (raw === undefined || raw === '') return {};
  try {
    const app = JSON.parse(raw) as { organization_name?: unknown; space_name?: unknown; application_name?: unknown };
    const out: Record<string, string> = {};
    if (typeof app.organization_name === 'string') out['XS_AUDIT_ORG'] = app.organization_name;
    if (typeof app.space_name === 'string') out['XS_AUDIT_SPACE'] = app.space_name;
    if (typeof app.application_name === 'string') out['XS_AUDIT_APP'] = app.application_name;
    return out;
  } catch {
    return {};
  }
}

function closeConnection(c: Connection | undefined): void {
  c?.agent.destroy();
  c?.tokens?.close();
}
