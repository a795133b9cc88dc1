import { formatIssues } from '@otel-audit/semconv';
import type { ConsumeResult } from '../model/consume.js';
import type { PartialSuccess } from './encode-response.js';

/** Longest `error_message` we send back; the OTLP response must stay well under 4 MiB. */
const MAX_ERROR_MESSAGE = 64 * 1024;

/**
 * The partial-success `error_message`: one line per rejected record,
 * `record <index> uuid=<uuid>: <field>: <problem>; ...`, capped in length.
 */
export function formatRejections(result: ConsumeResult): string {
  let out = `${result.rejected.length} of ${result.received} log records rejected`;
  for (let i = 0; i < result.rejected.length; i++) {
    const r = result.rejected[i]!;
    const line = `\nrecord ${r.index} uuid=${r.uuid ?? '-'}: ${formatIssues(r.issues)}`;
    if (out.length + line.length > MAX_ERROR_MESSAGE) {
      out += `\n... and ${result.rejected.length - i} more (see the dead-letter store)`;
      break;
    }
    out += line;
  }
  return out;
}

/** The `partial_success` of an export response: unset when nothing was rejected, as the OTLP spec requires. */
export function partialSuccessOf(result: ConsumeResult): PartialSuccess | undefined {
  return result.rejected.length === 0
    ? undefined
    : { rejectedLogRecords: result.rejected.length, errorMessage: formatRejections(result) };
}
