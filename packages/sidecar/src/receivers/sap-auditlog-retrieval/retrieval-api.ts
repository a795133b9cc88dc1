import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent, AgentOptions } from 'node:https';
import { createAgent, NetworkError, send, snippet } from '../../http/client.js';
import type { AuditLogCredentials } from '../../sap/credentials.js';
import { TokenError, TokenProvider } from '../../sap/token-provider.js';
import { errorOfStatus, RetrievalError } from './errors.js';
import { sleep } from './sleep.js';
import type { TokenBucket } from './token-bucket.js';

export const RECORDS_PATH = '/auditlog/v2/auditlogrecords';

/** One request of a window: the first (no handle) or the next page (the handle of the one before). */
export interface PageQuery {
  /** Window start and end, epoch ms (sent in whole seconds). */
  readonly from: number;
  readonly to: number;
  readonly categories: readonly string[];
  readonly handle?: string | undefined;
}

export interface Page {
  /** The records as the API sent them (parsed JSON, not yet checked). */
  readonly records: readonly unknown[];
  /** The next page's handle, exactly as the `Paging` header gave it; undefined on the last page. */
  readonly handle: string | undefined;
}

/** What the client reports as it goes (metrics). */
export interface ApiObserver {
  onResponse?(status: number): void;
  onThrottled?(): void;
}

/** A page is at most 500 records of SAP messages up to 10 KB, plus their envelope. */
const MAX_PAGE_BYTES = 64 * 1024 * 1024;
const THROTTLE_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000];

/** `YYYY-MM-DDTHH:MM:SS` in UTC, as the API takes `time_from` and `time_to`. */
export function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** The handle of a `Paging: handle=<value>` header, or undefined when there is none. */
export function pagingHandle(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const m = /^\s*handle=(.*)$/s.exec(value);
  const handle = (m === null ? value : m[1]!).trim();
  return handle === '' ? undefined : handle;
}

/**
 * The Retrieval API of one subaccount (`GET {url}/auditlog/v2/auditlogrecords`): bearer tokens from
 * the shared token provider (cached; one refresh when the API answers 401), requests paced by a
 * token bucket, 429 answered by waiting and sending the same request again.
 */
export class RetrievalApi {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly tokens: TokenProvider;
  private readonly base: URL;

  constructor(
    readonly credentials: AuditLogCredentials,
    tls: AgentOptions,
    private readonly timeoutMs: number,
    private readonly bucket: TokenBucket,
    private readonly observer: ApiObserver = {},
  ) {
    this.base = new URL(credentials.url);
    this.agent = createAgent(credentials.url, 4, tls);
    this.tokens = new TokenProvider(credentials, tls, timeoutMs);
  }

  /** The URL of a page request (the handle URL-encoded once, the window sent again with it). */
  url(query: PageQuery): URL {
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}${RECORDS_PATH}`, this.base);
    url.searchParams.set('time_from', apiTime(query.from));
    url.searchParams.set('time_to', apiTime(query.to));
    if (query.categories.length > 0) url.searchParams.set('category', query.categories.join(','));
    if (query.handle !== undefined) url.searchParams.set('handle', query.handle);
    return url;
  }

  /** One page; throws {@link RetrievalError}. Resolves undefined once `signal` aborts. */
  async page(query: PageQuery, signal: AbortSignal): Promise<Page | undefined> {
    const url = this.url(query);
    let refreshed = false;
    let throttled = 0;
    for (;;) {
      if (!(await this.bucket.take(signal))) return undefined;
      const token = await this.token();
      let res;
      try {
        res = await send(url, {
          method: 'GET',
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
          agent: this.agent,
          timeoutMs: this.timeoutMs,
          signal,
          maxResponseBytes: MAX_PAGE_BYTES,
        });
      } catch (err) {
        if (signal.aborted) return undefined;
        if (err instanceof NetworkError)
          throw new RetrievalError('unavailable', `SAP Audit Log Retrieval API ${err.message}`);
        throw err;
      }
      this.observer.onResponse?.(res.status);
      if (res.status === 204) return { records: [], handle: undefined };
      if (res.status === 200) {
        if (res.truncated) {
          throw new RetrievalError('unavailable', `a page of the Retrieval API is larger than ${MAX_PAGE_BYTES} bytes`);
        }
        return { records: parseRecords(res.body), handle: pagingHandle(res.headers['paging']) };
      }
      if (res.status === 401 && !refreshed) {
        // Expired or revoked early: one new token, then the same request again.
        this.tokens.invalidate(undefined, token);
        refreshed = true;
        continue;
      }
      const error = errorOfStatus(res.status, res.body, res.headers);
      if (error.kind !== 'throttled') throw error;
      this.observer.onThrottled?.();
      const wait = error.retryAfterMs ?? THROTTLE_BACKOFF_MS[Math.min(throttled, THROTTLE_BACKOFF_MS.length - 1)]!;
      throttled++;
      this.bucket.pause(wait);
      if (!(await sleep(0, signal))) return undefined;
    }
  }

  private async token(): Promise<string> {
    try {
      return await this.tokens.token(undefined);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      throw new RetrievalError(err.credentialsRejected ? 'credentials' : 'unavailable', err.message, err.retryAfterMs);
    }
  }

  close(): void {
    this.agent.destroy();
    this.tokens.close();
  }
}

function parseRecords(body: string): unknown[] {
  if (body.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body) as unknown;
  } catch {
    throw new RetrievalError(
      'unavailable',
      `the Retrieval API answered 200 with a body that is not JSON: ${snippet(body, 100)}`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new RetrievalError(
      'unavailable',
      `the Retrieval API answered 200 with ${snippet(body, 100)} instead of an array of records`,
    );
  }
  return parsed;
}
