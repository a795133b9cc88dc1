/** One problem with a record: `field` is the attribute key (or record field) at fault. */
export interface ValidationIssue {
  readonly field: string;
  readonly message: string;
}

/** The problems found in one record, in the order they were found. */
export class Issues {
  readonly list: ValidationIssue[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  /** Adds a "required" issue unless the field already has one (e.g. it was blank). */
  required(field: string, message: string): void {
    if (!this.list.some((i) => i.field === field)) this.add(field, message);
  }
}

/** One line naming each issue, e.g. `client.address: "x" is not a valid IPv4 or IPv6 address`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}
