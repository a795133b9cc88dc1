import type { AnyValue, KeyValue } from './any-value.js';
import { messageParts, sapDataOf } from './build-message.js';
import { checkRecord } from './check-record.js';
import { isUuid } from './coerce.js';
import {
  auditEventType,
  type AuditEventKind,
  type AuditEventType,
  type EventKindRules,
  type SapMessageByKind,
} from './event-types.js';
import { Issues, quote, type ValidationIssue } from './issues.js';
import { Attr } from './names.js';
import { collect } from './read-attributes.js';
import { MALFORMED_TEXT, malformedTextField } from './text.js';
import type { Fields } from './record-fields.js';

export { formatIssues, type ValidationIssue } from './issues.js';
export { isSubdomain, isUuid } from './coerce.js';

export interface AuditRecordInput {
  /** The record's EventName (or its `event.name` attribute). */
  readonly eventName: string;
  readonly body: AnyValue;
  /** Event time, already formatted as SAP wants it (see `formatSapTime`). */
  readonly time: string;
  readonly attributes: readonly KeyValue[];
  /** Supplies a uuid when the record has no `log.record.uid`; without it that attribute is required. */
  readonly deriveUuid?: () => string;
}

/** A valid record of kind `K` and its SAP message. */
export interface MappedAuditRecordOf<K extends AuditEventKind> {
  readonly ok: true;
  /** The event kind: testing it narrows `type` and `message`. */
  readonly kind: K;
  readonly type: EventKindRules<K>;
  readonly uuid: string;
  readonly message: SapMessageByKind[K];
  /** `audit.success`; kept for the local record even where SAP's body leaves it out. */
  readonly success: boolean | undefined;
  readonly tenantSubdomain: string | undefined;
}

/** A valid record of one of the kinds `K` (by default any of the six); testing `kind` narrows `message`. */
export type MappedAuditRecord<K extends AuditEventKind = AuditEventKind> = { [P in K]: MappedAuditRecordOf<P> }[K];

export interface RejectedAuditRecord {
  readonly ok: false;
  readonly type: AuditEventType | undefined;
  readonly uuid: string | undefined;
  readonly issues: readonly ValidationIssue[];
}

export type AuditMappingResult = MappedAuditRecord | RejectedAuditRecord;

/**
 * Validates an audit record and maps it to the SAP Audit Log Service v2 message (see
 * docs/semantic-conventions.md). The one implementation of the rules: the SDK validates events with
 * it before sending and the sidecar maps received records with it.
 */
export function mapAuditRecord(input: AuditRecordInput): AuditMappingResult {
  const issues = new Issues();
  const type = auditEventType(input.eventName);
  const malformed = malformedTextField(input.attributes, input.body);
  if (malformed !== undefined) issues.add(malformed, MALFORMED_TEXT);
  const f = collect(input.attributes, issues);

  if (f.uuid !== undefined && !isUuid(f.uuid)) {
    issues.add(Attr.RecordUid, `${quote(f.uuid)} is not a UUID`);
  }
  if (type === undefined) {
    issues.add('EventName', `unknown audit event ${quote(input.eventName)}`);
    return { ok: false, type, uuid: f.uuid, issues: issues.list };
  }
  const uuid = f.uuid ?? input.deriveUuid?.();
  if (uuid === undefined) issues.add(Attr.RecordUid, 'required');

  const data = type.bodyIsData ? sapDataOf(input.body) : undefined;
  checkRecord(type, f, data, issues);
  const mapped =
    issues.list.length === 0 && uuid !== undefined ? mappedRecord(type, uuid, f, input.time, data) : undefined;
  // Builders return nothing only for a part whose absence the checks have reported.
  return mapped ?? { ok: false, type, uuid, issues: issues.list };
}

function mappedRecord<K extends AuditEventKind>(
  type: AuditEventType<K>,
  uuid: string,
  f: Fields,
  time: string,
  data: string | undefined,
): MappedAuditRecord<K> | undefined {
  const message = type.buildMessage(uuid, messageParts(type, f, time, data));
  if (message === undefined) return undefined;
  return { ok: true, kind: type.kind, type, uuid, message, success: f.success, tenantSubdomain: f.tenantSubdomain };
}
