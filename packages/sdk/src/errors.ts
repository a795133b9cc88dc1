import type { ValidationIssue } from '@otel-audit/semconv';

/** Base of every error the SDK throws or rejects with. */
export class AuditLogError extends Error {
  override name = 'AuditLogError';
}

/** An event that breaks the SAP Audit Log Service rules; `field` names the first offending event field. */
export class AuditValidationError extends AuditLogError {
  override name = 'AuditValidationError';
  readonly field: string;

  constructor(readonly issues: readonly ValidationIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.field = issues[0]?.field ?? '';
  }
}

/** The sidecar did not durably accept the record (rejected it, or could not be reached in time). */
export class AuditDeliveryError extends AuditLogError {
  override name = 'AuditDeliveryError';

  constructor(
    message: string,
    /** True when the sidecar refused the record itself (it is in the sidecar's dead-letter store). */
    readonly rejected: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
