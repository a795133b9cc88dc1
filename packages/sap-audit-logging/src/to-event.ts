/**
 * A logged `@sap/audit-logging` message → an `@otel-audit/sdk` audit event whose OTel record the
 * sidecar maps back to the same SAP v2 body (docs/semantic-conventions.md).
 */
import type { AnyValueMap, LogAttributes } from '@opentelemetry/api-logs';
import type { AuditEvent } from '@otel-audit/sdk';
import type { AuditEventName } from '@otel-audit/semconv';
import type { LoggedMessage, MessageContent, MessageKind } from './messages.js';
import type { DataSubject } from './types.js';

export type Sdk = typeof import('@otel-audit/sdk');
export type Semconv = typeof import('@otel-audit/semconv');

export type EventFactory = (message: LoggedMessage) => AuditEvent;

/** Builds events with the SDK's base class; the modules are ESM, loaded by `v2()`. */
export function eventFactory(sdk: Sdk, semconv: Semconv): EventFactory {
  const { Attr, AttributeSuffix, AuditEventName, StructuredAttr } = semconv;
  const EVENT_NAMES: Readonly<Record<MessageKind, AuditEventName>> = {
    security: AuditEventName.SecurityEvent,
    'data-access': AuditEventName.DataAccess,
    'data-modification': AuditEventName.DataModification,
    'configuration-change': AuditEventName.ConfigurationChange,
  };
  const entryKey = (name: string, suffix: string) => `${Attr.AttributePrefix}${name}.${suffix}`;

  function putIds(a: LogAttributes, prefix: string, ids: Readonly<Record<string, string>>): void {
    for (const key of Object.keys(ids)) a[prefix + key] = ids[key];
  }

  function subjectValue(s: DataSubject): AnyValueMap {
    return s.role === undefined ? { type: s.type, id: { ...s.id } } : { type: s.type, role: s.role, id: { ...s.id } };
  }

  /** The attributes of the record, read from the message when `log*()` is called. */
  function attributesOf(kind: MessageKind, c: MessageContent): LogAttributes {
    const a: LogAttributes = {};
    if (kind === 'security') {
      if (c.ip !== undefined) a[Attr.ClientAddress] = c.ip;
      return a;
    }
    if (c.success !== undefined) a[Attr.Success] = c.success;
    if (c.channel !== undefined) a[Attr.Channel] = c.channel;
    if (c.object !== undefined) {
      a[Attr.ObjectType] = c.object.type;
      putIds(a, Attr.ObjectIdPrefix, c.object.id);
    }
    const subject = c.data_subject;
    if (subject !== undefined) {
      a[Attr.DataSubjectType] = subject.type;
      if (subject.role !== undefined) a[Attr.DataSubjectRole] = subject.role;
      putIds(a, Attr.DataSubjectIdPrefix, subject.id);
    }
    if (c.data_subjects !== undefined) a[StructuredAttr.DataSubjects] = c.data_subjects.map(subjectValue);
    const attributes = c.attributes ?? [];
    a[Attr.AttributeNames] = attributes.map((x) => x.name);
    for (const x of attributes) {
      // Each kind's own fields; anything else on the caller's object is not part of SAP's schema.
      if (kind === 'data-access') {
        const successful = (x as { successful?: boolean }).successful;
        if (successful !== undefined) a[entryKey(x.name, AttributeSuffix.Successful)] = successful;
      } else {
        const change = x as { old?: string; new?: string };
        if (change.old !== undefined) a[entryKey(x.name, AttributeSuffix.Old)] = change.old;
        if (change.new !== undefined) a[entryKey(x.name, AttributeSuffix.New)] = change.new;
      }
    }
    const attachments = c.attachments;
    if (attachments !== undefined) {
      a[Attr.AttachmentIds] = attachments.map((x) => x.id);
      if (attachments.some((x) => x.name !== undefined)) a[Attr.AttachmentNames] = attachments.map((x) => x.name ?? '');
    }
    return a;
  }

  class LoggedMessageEvent extends sdk.AuditEvent {
    readonly eventName: AuditEventName;
    private readonly data: string | undefined;
    private readonly names: readonly string[];
    private readonly attributes: LogAttributes;

    constructor(message: LoggedMessage) {
      const c = message.content;
      const subdomain = message.subdomain;
      super({
        uuid: c.uuid,
        user: c.user,
        tenant: c.tenant,
        tenantSubdomain: typeof subdomain === 'string' && subdomain !== '' ? subdomain : undefined,
        time: c.time === undefined ? undefined : new Date(c.time),
      });
      this.eventName = EVENT_NAMES[message.kind];
      this.data = c.data;
      this.names = (c.attributes ?? []).map((x) => x.name);
      this.attributes = attributesOf(message.kind, c);
    }

    protected override body(): string | undefined {
      return this.data;
    }

    protected override attributeNames(): readonly string[] {
      return this.names;
    }

    protected addAttributes(a: LogAttributes): void {
      Object.assign(a, this.attributes);
    }
  }

  return (message) => new LoggedMessageEvent(message);
}
