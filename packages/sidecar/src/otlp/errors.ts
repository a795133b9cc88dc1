import { PermanentError } from '../model/errors.js';

/** Thrown by both decoders; the receiver answers 400 / INVALID_ARGUMENT with its message. */
export class OtlpDecodeError extends PermanentError {
  override name = 'OtlpDecodeError';
}

/** The request is well formed but beyond a configured limit: 413 / RESOURCE_EXHAUSTED (not retryable). */
export class OtlpLimitError extends OtlpDecodeError {
  override name = 'OtlpLimitError';
}
