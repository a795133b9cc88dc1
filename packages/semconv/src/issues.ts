/** One problem with a record: `field` is the attribute key (or record field) at fault. */
export interface ValidationIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * Longest value an error text quotes: a longer one is cut, and its length given, so that an error
 * never echoes a large value back (a 5 MiB attribute would make a 5 MiB error).
 */
export const MAX_QUOTED_LENGTH = 128;

/** Longest problem text of one issue; values in it are quoted with {@link quote} already. */
const MAX_ISSUE_MESSAGE_LENGTH = 512;

/** Longest text of all the issues of one record (a dead letter's reason, a line of the rejection message). */
const MAX_ISSUES_TEXT_LENGTH = 8 * 1024;

/**
 * A value as error texts quote it: in JSON quotes (line breaks, quotes and control characters
 * escaped, so the text stays one line), at most {@link MAX_QUOTED_LENGTH} characters of it.
 */
export function quote(value: string): string {
  if (value.length <= MAX_QUOTED_LENGTH) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_QUOTED_LENGTH))}... (${value.length} characters)`;
}

/** `text` cut to `max` characters, saying how long it was. */
export function capText(text: string, max: number = MAX_QUOTED_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/** The problems found in one record, in the order they were found. */
export class Issues {
  readonly list: ValidationIssue[] = [];

  /**
   * Adds a problem. Every error text about a record goes through here, so the caps apply to every
   * path: the field (an attribute key may be any length) and the message are cut if too long.
   */
  add(field: string, message: string): void {
    this.list.push({ field: capText(field), message: capText(message, MAX_ISSUE_MESSAGE_LENGTH) });
  }

  /** Adds a "required" issue unless the field already has one (e.g. it was blank). */
  required(field: string, message: string): void {
    if (!this.list.some((i) => i.field === field)) this.add(field, message);
  }
}

/**
 * One line naming each issue, e.g. `client.address: "x" is not a valid IPv4 or IPv6 address`; cut
 * after 8 KiB with the number of issues left out.
 */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  let out = '';
  for (let i = 0; i < issues.length; i++) {
    const part = `${i === 0 ? '' : '; '}${capText(issues[i]!.field)}: ${capText(issues[i]!.message, MAX_ISSUE_MESSAGE_LENGTH)}`;
    if (out.length + part.length > MAX_ISSUES_TEXT_LENGTH) return `${out}; ... and ${issues.length - i} more`;
    out += part;
  }
  return out;
}
