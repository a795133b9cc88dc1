import type { IncomingHttpHeaders } from 'node:http';
import { retryAfterMs, snippet } from '../../http/client.js';

/**
 * What went wrong with a request to the Retrieval API, by what the receiver does about it:
 * - `throttled` (429): wait (Retry-After, else a backoff) and send the same request again;
 * - `unauthorized` (401 even with a fresh token), `refused` (400, 403, other 4xx), `credentials`
 *   (the token endpoint refused the client): log the cause, try again at poll_interval;
 * - `category_filter` (501 filter_category_not_supported): query without the category filter;
 * - `unavailable` (5xx, network, timeout, an unreadable answer): retry with backoff.
 */
export type RetrievalErrorKind =
  'throttled' | 'unauthorized' | 'refused' | 'credentials' | 'category_filter' | 'unavailable';

export class RetrievalError extends Error {
  override readonly name = 'RetrievalError';
  constructor(
    readonly kind: RetrievalErrorKind,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const API = 'SAP Audit Log Retrieval API';

/** The error for a non-success status (200 and 204 are success), with the cause named. */
export function errorOfStatus(status: number, body: string, headers: IncomingHttpHeaders): RetrievalError {
  const text = body === '' ? '' : `: ${snippet(body)}`;
  if (status === 429) return new RetrievalError('throttled', `${API} HTTP 429 (rate limit)`, retryAfterMs(headers));
  if (status === 401) {
    return new RetrievalError(
      'unauthorized',
      `${API} answers 401 even with a fresh token${text}: check the auditlog-management service key`,
    );
  }
  if (status === 403) {
    return new RetrievalError(
      'refused',
      `${API} answers 403 (forbidden)${text}: the service key's client may not read this account's audit logs (check the auditlog-management instance and its plan)`,
    );
  }
  if (status === 400) {
    return new RetrievalError(
      'refused',
      `${API} answers 400 (bad request)${text}: it refused the time window, category or paging handle`,
    );
  }
  if (status === 501 && /filter_category_not_supported/.test(body)) {
    return new RetrievalError('category_filter', `${API} cannot filter by category here${text}`);
  }
  if (status >= 500) return new RetrievalError('unavailable', `${API} HTTP ${status}${text}`, retryAfterMs(headers));
  return new RetrievalError(
    'refused',
    `${API} HTTP ${status}${text}: check the url of the auditlog-management service key`,
  );
}
