import { formatIssues, type ValidationIssue } from '@otel-audit/semconv';

/** Base of every error the SDK throws or rejects with. */
export class AuditLogError extends Error {
  override name = 'AuditLogError';
}

/** An event that breaks the SAP Audit Log Service rules; `field` names the first offending event field. */
export class AuditValidationError extends AuditLogError {
  override name = 'AuditValidationError';
  readonly field: string;

  constructor(readonly issues: readonly ValidationIssue[]) {
    super(formatIssues(issues));
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

/**
 * The sidecar rejected some records of a request without naming them all, and this one may be among
 * them: it is either durably accepted or in the sidecar's dead-letter store (look `uuid` up there).
 * `rejected` is false because the rejection is not established; sending the event again may store
 * it twice.
 */
export class AuditDeliveryUnconfirmedError extends AuditDeliveryError {
  override name = 'AuditDeliveryUnconfirmedError';

  constructor(
    message: string,
    readonly uuid: string,
  ) {
    super(message, false);
  }
}
