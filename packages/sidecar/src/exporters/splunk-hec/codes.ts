import { retryAfterMs, snippet } from '../../http/client.js';

/**
 * What a HEC response means for the events of the request (the one place for HEC's status
 * codes and HTTP statuses):
 *
 * - `delivered`: HEC took the request (code 0); with indexer acknowledgement, `ackId` names it.
 * - `retry`: nothing in the request was taken and nothing is wrong with the events: resend the
 *   whole request after a backoff (load, outage, or a setup problem such as a refused token,
 *   which must not cost records: they wait in the spool until the setup is fixed).
 * - `bad-event`: an event of the request is invalid (codes 5, 6, 12, 13, 15): find it
 *   (`invalidEvent`, or by bisection), dead-letter it alone and resend the others.
 * - `bad-index`: code 7, the index does not exist or the token may not write to it.
 * - `too-large`: HTTP 413, the body is over HEC's `max_content_length`: split the request.
 */
export type HecVerdict =
  | { readonly kind: 'delivered'; readonly ackId: number | undefined }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number | undefined }
  | { readonly kind: 'bad-event'; readonly reason: string; readonly invalidEvent: number | undefined }
  | { readonly kind: 'bad-index'; readonly reason: string }
  | { readonly kind: 'too-large'; readonly reason: string };

type Kind = 'delivered' | 'retry' | 'bad-event' | 'bad-index';

/** HEC's response codes (Splunk's "Troubleshoot HTTP Event Collector" table): what each means here, and advice for the operator where it is a setup problem. */
const CODES: ReadonlyMap<number, { readonly kind: Kind; readonly advice?: string }> = new Map([
  [0, { kind: 'delivered' }],
  [1, { kind: 'retry', advice: 'the token is disabled in Splunk; records are kept until it works again' }],
  [2, { kind: 'retry', advice: "no token was sent; check the exporter's token" }],
  [3, { kind: 'retry', advice: "the Authorization header was refused; check the exporter's token" }],
  [4, { kind: 'retry', advice: "the token is not known to HEC; check the exporter's token" }],
  [5, { kind: 'bad-event' }],
  [6, { kind: 'bad-event' }],
  [7, { kind: 'bad-index' }],
  [8, { kind: 'retry' }],
  [9, { kind: 'retry' }],
  [10, { kind: 'retry', advice: 'the token requires indexer acknowledgement: set ack: true' }],
  [11, { kind: 'retry', advice: 'HEC refused the data channel' }],
  [12, { kind: 'bad-event' }],
  [13, { kind: 'bad-event' }],
  [14, { kind: 'retry', advice: 'indexer acknowledgement is disabled for the token: set ack: false or enable it' }],
  [15, { kind: 'bad-event' }],
  [16, { kind: 'retry', advice: 'HEC expects the token in the query string, which this exporter never sends' }],
  [18, { kind: 'retry' }],
  [19, { kind: 'retry' }],
  [20, { kind: 'retry' }],
  [21, { kind: 'retry', advice: "the token is not known to HEC; check the exporter's token" }],
  [22, { kind: 'retry', advice: 'the token is disabled in Splunk; records are kept until it works again' }],
]);

/** HEC's JSON answer: `{"text": …, "code": N}`, plus `ackId` or `invalid-event-number`. */
export interface HecReply {
  readonly text?: unknown;
  readonly code?: unknown;
  readonly ackId?: unknown;
  readonly 'invalid-event-number'?: unknown;
}

function parseReply(body: string): HecReply | undefined {
  if (!body.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Maps an answer of `POST /services/collector/event` to what happens to the request's events. */
export function classify(
  status: number,
  body: string,
  headers: Record<string, string | string[] | undefined>,
): HecVerdict {
  const reply = parseReply(body);
  const code = typeof reply?.code === 'number' ? reply.code : undefined;
  const text = typeof reply?.text === 'string' ? reply.text : undefined;
  const describe = (advice?: string) =>
    `Splunk HEC HTTP ${status}${
      code !== undefined ? ` code ${code}${text ? ` (${text})` : ''}` : body ? `: ${snippet(body)}` : ''
    }${advice ? `: ${advice}` : ''}`;

  if (status >= 200 && status < 300 && (code === undefined || code === 0)) {
    // Some HEC-compatible receivers answer 2xx without a body. A 2xx with a body that is not HEC's
    // JSON (a login page, a proxy's HTML) means the records did not reach HEC: keep them.
    if (reply === undefined && body.trim() !== '') {
      return { kind: 'retry', reason: describe('the answer is not from HEC; check endpoint') };
    }
    return { kind: 'delivered', ackId: typeof reply?.ackId === 'number' ? reply.ackId : undefined };
  }
  if (status === 413) return { kind: 'too-large', reason: describe("the request is over HEC's max_content_length") };
  const entry = code === undefined ? undefined : CODES.get(code);
  if (entry !== undefined && entry.kind !== 'delivered') {
    const reason = describe(entry.advice);
    if (entry.kind === 'bad-event') {
      const n = reply?.['invalid-event-number'];
      return { kind: 'bad-event', reason, invalidEvent: typeof n === 'number' && Number.isInteger(n) ? n : undefined };
    }
    if (entry.kind === 'bad-index') return { kind: 'bad-index', reason };
    return { kind: 'retry', reason, retryAfterMs: retryAfterMs(headers) };
  }
  // No (known) HEC code: go by the HTTP status. Nothing here blames the events.
  const advice =
    status === 401 || status === 403
      ? "the token was refused; check the exporter's token"
      : status === 404 || status === 405
        ? 'no HEC event endpoint at this URL; check endpoint'
        : undefined;
  return { kind: 'retry', reason: describe(advice), retryAfterMs: retryAfterMs(headers) };
}
