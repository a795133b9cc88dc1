/**
 * SAP Audit Log Service "next generation" (NG): which NG event each of our records becomes. NG
 * events carry one attribute each (scalar `attribute`, `object_id`, `data_subject_id`), so a record
 * with several attributes becomes several NG events. The per-kind choice (message, envelope type,
 * one event per attribute or not) is the `ng` column of the rule table (`event-types.ts`); the
 * expansion below is the one implementation both wire formats (OTLP with protobuf bodies, and the
 * JSON envelopes of `/ingestion/v1/events`) are built from.
 */

import { createHash } from 'node:crypto';
import type {
  IdMap,
  SapChangeAttribute,
  SapConfigurationChangeMessage,
  SapDataAccessMessage,
  SapDataModificationMessage,
  SapDataSubject,
  SapMessage,
  SapSecurityEventMessage,
} from './sap-message.js';

/** Package of the NG event catalog's protobuf messages. */
export const NG_PROTO_PACKAGE = 'sap.auditlog.auditevent.v2';

/** The `sap.auditlog.auditevent.v2` messages our six kinds are sent as (format `otlp`). */
export type NgMessageName =
  | 'DppDataAccess'
  | 'DppDataModification'
  | 'DppDataDelete'
  | 'ConfigurationChange'
  | 'ConfigurationDelete'
  | 'ZzzCustomEvent';

/** The envelope `type`s of `POST /ingestion/v1/events` our kinds are sent as (format `json`), as SAP's CAP plugin sends them. */
export type NgJsonType = 'dppDataAccess' | 'dppDataModification' | 'configurationChange' | 'legacySecurityWrapper';

/** The NG column of the rule table. */
export interface NgRules {
  /** The v2 catalog message (format `otlp`); the log record's `event_name` is its full name. */
  readonly message: NgMessageName;
  /** The envelope type (format `json`). */
  readonly jsonType: NgJsonType;
  /** One NG event per audited attribute (and data subject, and attachment); otherwise one per record. */
  readonly perAttribute: boolean;
}

/** What the CAP plugin writes where a required NG field has no value in the record. */
export const NG_NOT_PROVIDED = 'not provided';
/** What SAP's CAP plugins write for a data access channel they do not know. */
export const NG_NOT_SPECIFIED = 'not specified';

/** One NG event: the fields the NG messages and envelopes take, as strings. */
export interface NgEvent {
  /** Deterministic: derived from the record's uuid and what this event is about, so a resend carries the same id. */
  readonly id: string;
  readonly attribute: string | undefined;
  /** The attribute's old value (for deletions, the deleted value). */
  readonly oldValue: string | undefined;
  readonly newValue: string | undefined;
  readonly objectType: string | undefined;
  /** A composite id flattened as `"k1:v1 k2:v2"`, keys sorted. */
  readonly objectId: string | undefined;
  readonly dataSubjectType: string | undefined;
  readonly dataSubjectId: string | undefined;
  readonly channelType: string | undefined;
  readonly channelId: string | undefined;
  readonly attachmentType: string | undefined;
  readonly attachmentId: string | undefined;
  /** What NG has no field for (success, a data subject's role, custom details …): `common.app_context`. */
  readonly appContext: Readonly<Record<string, string>>;
}

/** A record's NG events and the fields all of them share. */
export interface NgRecord {
  readonly rules: NgRules;
  /** `common.user_initiator_id`. */
  readonly user: string;
  /** `common.source_ip` (security events' `ip`). */
  readonly sourceIp: string | undefined;
  /** The SAP v2 message as sent to the v2 write API: the security event's content (`ZzzCustomEvent.custom`, `legacySecurityWrapper.origEvent`). */
  readonly message: SapMessage;
  readonly events: readonly NgEvent[];
}

/**
 * `{ID: '1', b: 'x'}` → `"ID:1 b:x"`: keys sorted (JavaScript's default order, as the CAP plugin
 * sorts them), `"not provided"` when there are none.
 */
export function flattenId(id: IdMap | undefined): string {
  if (id === undefined) return NG_NOT_PROVIDED;
  const keys = Object.keys(id).sort();
  if (keys.length === 0) return NG_NOT_PROVIDED;
  let s = '';
  for (const k of keys) s += `${s === '' ? '' : ' '}${k}:${id[k]}`;
  return s;
}

/** Name-based (v5) UUID of `name` in the namespace `namespace` (a UUID), as RFC 4122 defines it. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Context entries of the record as a whole (the same on each of its NG events). */
function recordContext(message: SapMessage, success: boolean | undefined): Record<string, string> {
  const context: Record<string, string> = { 'otel_audit.record_uuid': message.uuid };
  if (success !== undefined) context['otel_audit.success'] = String(success);
  const m = message as Partial<SapDataModificationMessage & SapDataAccessMessage & SapSecurityEventMessage>;
  if (m.id !== undefined) context['otel_audit.message_id'] = m.id;
  if (m.identityProvider !== undefined) context['otel_audit.identity_provider'] = m.identityProvider;
  if (message.customDetails !== undefined) {
    for (const [k, v] of Object.entries(message.customDetails)) {
      context[`otel_audit.custom.${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  return context;
}

interface Expansion {
  readonly attribute: string;
  readonly subject: SapDataSubject | undefined;
  readonly subjectIndex: number;
  readonly attachment: { readonly id: string; readonly name?: string } | undefined;
}

/** attributes × data subjects × attachments, in that nesting order. */
function expand(
  names: readonly string[],
  subjects: readonly SapDataSubject[] | undefined,
  attachments: readonly { id: string; name?: string }[] | undefined,
): Expansion[] {
  const out: Expansion[] = [];
  const subjectList: readonly (SapDataSubject | undefined)[] = subjects ?? [undefined];
  const attachmentList: readonly ({ id: string; name?: string } | undefined)[] =
    attachments === undefined || attachments.length === 0 ? [undefined] : attachments;
  for (const attribute of names) {
    subjectList.forEach((subject, subjectIndex) => {
      for (const attachment of attachmentList) out.push({ attribute, subject, subjectIndex, attachment });
    });
  }
  return out;
}

/**
 * The id of one NG event: the record uuid for a record sent as one event; otherwise a v5 UUID in
 * the record uuid's namespace, named by what distinguishes the event within the record.
 */
function eventId(uuid: string, e: Expansion, multipleSubjects: boolean): string {
  let name = `attribute:${e.attribute}`;
  if (multipleSubjects) name += `\u0000subject:${e.subjectIndex}`;
  if (e.attachment !== undefined) name += `\u0000attachment:${e.attachment.id}`;
  return uuidV5(uuid, name);
}

function subjectsOf(m: SapDataAccessMessage | SapDataModificationMessage): SapDataSubject[] | undefined {
  return m.data_subjects ?? (m.data_subject === undefined ? undefined : [m.data_subject]);
}

/**
 * The NG events of one record, from its SAP v2 message (as the local record holds it) and the
 * kind's NG rules. `success` is `audit.success` (kept in the local record for every kind).
 */
export function ngRecord(rules: NgRules, message: SapMessage, success: boolean | undefined): NgRecord {
  const context = recordContext(message, success);
  const base = { rules, user: message.user, message };
  if (!rules.perAttribute) {
    const security = message as SapSecurityEventMessage;
    const event: NgEvent = {
      id: message.uuid,
      attribute: undefined,
      oldValue: undefined,
      newValue: undefined,
      objectType: undefined,
      objectId: undefined,
      dataSubjectType: undefined,
      dataSubjectId: undefined,
      channelType: undefined,
      channelId: undefined,
      attachmentType: undefined,
      attachmentId: undefined,
      appContext: context,
    };
    return { ...base, sourceIp: security.ip, events: [event] };
  }
  const m = message as SapDataAccessMessage | SapDataModificationMessage | SapConfigurationChangeMessage;
  const subjects = 'data_subject' in m || 'data_subjects' in m ? subjectsOf(m) : undefined;
  const access = rules.message === 'DppDataAccess' ? (m as SapDataAccessMessage) : undefined;
  const names = m.attributes.map((a) => a.name);
  const byName = new Map<string, SapChangeAttribute & { successful?: boolean }>(
    m.attributes.map((a) => [a.name, a as SapChangeAttribute & { successful?: boolean }]),
  );
  const multipleSubjects = (subjects?.length ?? 0) > 1;
  const events = expand(names, subjects, access?.attachments).map((e): NgEvent => {
    const a = byName.get(e.attribute)!;
    const appContext: Record<string, string> = { ...context };
    if (a.successful !== undefined) appContext['otel_audit.successful'] = String(a.successful);
    if (e.subject?.role !== undefined) appContext['otel_audit.data_subject_role'] = e.subject.role;
    return {
      id: eventId(m.uuid, e, multipleSubjects),
      attribute: e.attribute,
      oldValue: a.old,
      newValue: a.new,
      objectType: m.object.type,
      objectId: flattenId(m.object.id),
      dataSubjectType: e.subject?.type,
      dataSubjectId: e.subject === undefined ? undefined : flattenId(e.subject.id),
      channelType: access === undefined ? undefined : (access.channel ?? NG_NOT_SPECIFIED),
      channelId: access === undefined ? undefined : NG_NOT_SPECIFIED,
      attachmentType: e.attachment === undefined ? undefined : (e.attachment.name ?? NG_NOT_PROVIDED),
      attachmentId: e.attachment?.id,
      appContext,
    };
  });
  return { ...base, sourceIp: undefined, events };
}
