import { formatRejectionMessage } from '@otel-audit/semconv';
import type { ConsumeResult } from '../model/consume.js';
import type { PartialSuccess } from './encode-response.js';

/** The `partial_success` of an export response: unset when nothing was rejected, as the OTLP spec requires. */
export function partialSuccessOf(result: ConsumeResult): PartialSuccess | undefined {
  return result.rejected.length === 0
    ? undefined
    : { rejectedLogRecords: result.rejected.length, errorMessage: formatRejectionMessage(result) };
}
