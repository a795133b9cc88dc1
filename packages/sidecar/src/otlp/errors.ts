import { PermanentError } from '../model/errors.js';

/** Thrown by both decoders; the receiver answers 400 / INVALID_ARGUMENT with its message. */
export class OtlpDecodeError extends PermanentError {
  override name = 'OtlpDecodeError';
}

/** The request is well formed but beyond a configured limit: 413 / RESOURCE_EXHAUSTED (not retryable). */
export class OtlpLimitError extends OtlpDecodeError {
  override name = 'OtlpLimitError';
}

/**
 * Decoding the request would cost more memory than it may take (`DecodeMeter.maxBytes`): the
 * receiver refuses it for want of memory. `bytes` is the estimate when decoding stopped.
 */
export class OtlpMemoryError extends Error {
  override name = 'OtlpMemoryError';
  constructor(readonly bytes: number) {
    super(`decoding the request would need more than the ${bytes} bytes of memory estimated so far`);
  }
}
