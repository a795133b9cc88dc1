/*
 * How a consumer (the pipeline, an exporter) says it did not take records. Receivers and exporter
 * queues act on the class, never on the message: retry later, retry after a delay, or never.
 */

/** The records can never be taken as they are (malformed or invalid input): retrying cannot help. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** Nothing in the batch was delivered and all of it should be retried (after `retryAfterMs`, if given). */
export class RetryableExportError extends Error {
  override readonly name = 'RetryableExportError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Records cannot be taken now (storage full): the sender is asked to retry after `retryAfterMs`. */
export class BackpressureError extends Error {
  override readonly name = 'BackpressureError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}
