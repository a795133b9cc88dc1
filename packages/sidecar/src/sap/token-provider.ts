import type { AgentOptions } from 'node:https';
import { isSubdomain } from '@otel-audit/semconv';
import { createAgent, NetworkError, retryAfterMs, send, snippet } from '../http/client.js';
import { isX509 } from './binding-config.js';
import type { AuditLogCredentials } from './credentials.js';

/** Fetching a token failed; `retryable` is false when the UAA refused the credentials. */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    message: string,
    readonly credentialsRejected: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

interface CachedToken {
  readonly value: string;
  /** Renew from this time on (epoch ms): shortly before `expires_in` runs out. */
  readonly renewAt: number;
}

/** Renew this long before expiry, or at 90% of the lifetime for short-lived tokens. */
const RENEW_MARGIN_MS = 60_000;

/**
 * OAuth2 client-credentials tokens from XSUAA: with the client secret, or with the binding's X.509
 * certificate over mTLS to `certurl`. One cached token per tenant (the provider, or a subscriber
 * whose subdomain replaces the identity zone in the UAA host); concurrent callers share one fetch.
 */
export class TokenProvider {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  private readonly agent;
  private readonly x509: boolean;

  constructor(
    private readonly credentials: AuditLogCredentials,
    tls: AgentOptions,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    const uaa = credentials.uaa!;
    this.x509 = isX509(uaa);
    const base = this.x509 ? uaa.certurl! : uaa.url!;
    this.agent = createAgent(base, 8, this.x509 ? { ...tls, cert: uaa.certificate, key: uaa.key } : tls);
  }

  /** A valid token for the tenant (`undefined`: the provider). */
  async token(subdomain: string | undefined): Promise<string> {
    const key = subdomain ?? '';
    const cached = this.tokens.get(key);
    if (cached !== undefined && this.now() < cached.renewAt) return cached.value;
    let pending = this.pending.get(key);
    if (pending === undefined) {
      pending = this.fetch(subdomain).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    const fresh = await pending;
    this.tokens.set(key, fresh);
    return fresh.value;
  }

  /** Forgets `value` (the API refused it) so the next call fetches a new one. */
  invalidate(subdomain: string | undefined, value: string): void {
    const key = subdomain ?? '';
    if (this.tokens.get(key)?.value === value) this.tokens.delete(key);
  }

  /** The token endpoint for a tenant: the subscriber's subdomain replaces the provider's identity zone. */
  tokenUrl(subdomain: string | undefined): URL {
    const uaa = this.credentials.uaa!;
    const url = new URL(this.x509 ? uaa.certurl! : uaa.url!);
    if (subdomain !== undefined) {
      // The subdomain comes from a record: it must stay one DNS label under the provider's UAA domain,
      // or a sender could point the client secret at a host of its choosing.
      if (!isSubdomain(subdomain))
        throw new TokenError("the record's tenant subdomain is not a valid subdomain", false);
      const zone = uaa.identityzone ?? url.hostname.split('.')[0]!;
      const labels = url.hostname.split('.');
      if (labels[0] !== zone)
        throw new TokenError(`cannot derive the token host of subscriber ${subdomain} from ${url.hostname}`, false);
      const suffix = labels.slice(1).join('.');
      labels[0] = subdomain.toLowerCase();
      url.hostname = labels.join('.');
      if (url.hostname !== `${labels[0]}.${suffix}`)
        throw new TokenError(
          `cannot derive the token host of subscriber ${subdomain} from ${uaa.url ?? uaa.certurl}`,
          false,
        );
    }
    url.pathname = `${url.pathname.replace(/\/$/, '')}/oauth/token`;
    return url;
  }

  private async fetch(subdomain: string | undefined): Promise<CachedToken> {
    const uaa = this.credentials.uaa!;
    const url = this.tokenUrl(subdomain);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: uaa.clientid! });
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (!this.x509) {
      headers['Authorization'] = `Basic ${Buffer.from(`${uaa.clientid!}:${uaa.clientsecret!}`).toString('base64')}`;
    }
    const started = this.now();
    let res;
    try {
      res = await send(url, {
        method: 'POST',
        headers,
        body: form.toString(),
        agent: this.agent,
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (err instanceof NetworkError)
        throw new TokenError(`cannot reach the token endpoint ${url.origin}: ${err.message}`, false);
      throw err;
    }
    if (res.status !== 200) {
      const refused = res.status === 400 || res.status === 401 || res.status === 403;
      throw new TokenError(
        `token request to ${url.origin} failed: HTTP ${res.status} ${snippet(res.body, 200)}`,
        refused,
        retryAfterMs(res.headers),
      );
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      throw new TokenError(`token response from ${url.origin} is not JSON`, false);
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new TokenError(`token response from ${url.origin} has no access_token`, false);
    }
    const lifetimeMs = (typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600) * 1000;
    const margin = Math.min(RENEW_MARGIN_MS, lifetimeMs * 0.1);
    return { value: parsed.access_token, renewAt: started + lifetimeMs - margin };
  }

  close(): void {
    this.agent.destroy();
  }
}
