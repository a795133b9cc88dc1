import { capText } from '../issues.js';
import { formatIssues, type ValidationIssue } from '../map-record.js';

/*
 * The OTLP partial-success `error_message` otel-audit's receiver sends, and the parser its SDK reads
 * it with. Other clients read the text too, so the format is fixed:
 *
 *   <rejected> of <received> log records rejected
 *   record <index> uuid=<uuid or ->: <field>: <problem>; <field>: <problem>
 *   ...
 *   ... and <n> more (see the dead-letter store)      (only when the list was cut)
 *
 * Lines come in the order of the records in the request (ascending index), and the cut drops the
 * tail of the list: every rejected record before the last line shown is named.
 */

/**
 * Longest message, in UTF-16 code units, before the list of records is cut (the trailer may exceed
 * it); keeps the OTLP response well under gRPC's 4 MiB default.
 */
export const MAX_REJECTION_MESSAGE_LENGTH = 64 * 1024;

/** One rejected record, as the receiver knows it. */
export interface RecordRejection {
  /** Position of the record in the request, counting from 0 across resources and scopes. */
  readonly index: number;
  /** Its `log.record.uid` (or derived uuid); undefined when there is none. */
  readonly uuid: string | undefined;
  readonly issues: readonly ValidationIssue[];
}

/** What a request came to: the records in it and the rejected ones, in ascending index order. */
export interface RejectionSummary {
  readonly received: number;
  readonly rejected: readonly RecordRejection[];
}

/** A record line of a parsed message. */
export interface ParsedRejection {
  readonly index: number;
  /** Undefined when the line says `uuid=-`. */
  readonly uuid: string | undefined;
  /** The `<field>: <problem>; ...` text. */
  readonly reason: string;
}

export interface ParsedRejectionMessage {
  /** The counts of the summary line. */
  readonly rejected: number;
  readonly received: number;
  /** The records the message names, in message order. */
  readonly records: readonly ParsedRejection[];
  /** True when the list was cut (the message ends with `... and <n> more ...`). */
  readonly truncated: boolean;
  /** How many rejected records the trailer says were left out; 0 when not truncated. */
  readonly omitted: number;
}

/** The partial-success message for a request with rejected records. */
export function formatRejectionMessage(
  summary: RejectionSummary,
  maxLength: number = MAX_REJECTION_MESSAGE_LENGTH,
): string {
  const rejected = summary.rejected;
  let out = `${rejected.length} of ${summary.received} log records rejected`;
  for (let i = 0; i < rejected.length; i++) {
    const r = rejected[i]!;
    const line = `\nrecord ${r.index} uuid=${oneLine(capText(r.uuid ?? '-'))}: ${oneLine(formatIssues(r.issues))}`;
    if (out.length + line.length > maxLength) {
      out += `\n... and ${rejected.length - i} more (see the dead-letter store)`;
      break;
    }
    out += line;
  }
  return out;
}

const SUMMARY_LINE = /^(0|[1-9]\d*) of (0|[1-9]\d*) log records rejected$/;
// The uuid ends at the first ": " (a uuid never holds one); `s`: a reason may hold a lone \u2028.
const RECORD_LINE = /^record (0|[1-9]\d*) uuid=(.*?): (.*)$/s;
const TRAILER_LINE = /^\.\.\. and ([1-9]\d*) more \(see the dead-letter store\)$/;

/**
 * Reads a partial-success message in the format above; undefined when it is not one (another
 * receiver's free text, or a line that fits none of the forms), so that nothing is guessed from it.
 */
export function parseRejectionMessage(message: string): ParsedRejectionMessage | undefined {
  const lines = message.split('\n');
  const summary = SUMMARY_LINE.exec(lines[0]!);
  if (summary === null) return undefined;
  const records: ParsedRejection[] = [];
  let omitted = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const record = RECORD_LINE.exec(line);
    if (record !== null) {
      const uuid = record[2]!;
      records.push({ index: Number(record[1]), uuid: uuid === '-' ? undefined : uuid, reason: record[3]! });
      continue;
    }
    const trailer = i === lines.length - 1 ? TRAILER_LINE.exec(line) : null;
    if (trailer === null) return undefined;
    omitted = Number(trailer[1]);
  }
  return {
    rejected: Number(summary[1]),
    received: Number(summary[2]),
    records,
    truncated: omitted > 0,
    omitted,
  };
}

/** Keeps one record to one line: a line break inside a value is written as `\n` / `\r`. */
function oneLine(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/\r/g, '\\r').replace(/\n/g, '\\n') : text;
}
