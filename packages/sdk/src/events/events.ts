import type { LogAttributes } from '@opentelemetry/api-logs';
import { Attr, AttributeSuffix, AuditEventName } from '@otel-audit/semconv';
import { AuditEvent, type AuditEventOptions } from './audit-event.js';
import {
  ChangeAttribute,
  DataAccessAttribute,
  DeletedAttribute,
  SecurityEventAttribute,
  type Attachment,
} from './attributes.js';

const attr = (name: string, suffix: AttributeSuffix): string => `${Attr.AttributePrefix}${name}.${suffix}`;

function putIdMap(a: LogAttributes, prefix: string, ids: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(ids)) a[prefix + k] = v;
}

export interface SecurityEventOptions extends AuditEventOptions {
  /** What happened (SAP `data`), e.g. "3 unsuccessful login attempts". */
  data: string;
  /** Client IP address (IPv4 or IPv6). */
  ip?: string;
  identityProvider?: string;
  attributes?: readonly SecurityEventAttribute[];
  /** Outcome; kept in the local record (SAP's security events have no `success`). */
  success?: boolean;
}

/** A security-relevant event (login, logout, permission change...): SAP `security-events`. */
export class SecurityEvent extends AuditEvent {
  readonly eventName = AuditEventName.SecurityEvent;
  readonly data: string;
  readonly ip: string | undefined;
  readonly identityProvider: string | undefined;
  readonly attributes: readonly SecurityEventAttribute[];
  readonly success: boolean | undefined;

  constructor(options: SecurityEventOptions) {
    super(options);
    this.data = options.data;
    this.ip = options.ip;
    this.identityProvider = options.identityProvider;
    this.attributes = options.attributes ?? [];
    this.success = options.success;
  }

  protected override body(): string {
    return this.data;
  }

  protected override attributeNames(): readonly string[] {
    return this.attributes.map((x) => x.name);
  }

  protected addAttributes(a: LogAttributes): void {
    if (this.success !== undefined) a[Attr.Success] = this.success;
    if (this.ip !== undefined) a[Attr.ClientAddress] = this.ip;
    if (this.identityProvider !== undefined) a[Attr.IdentityProvider] = this.identityProvider;
    if (this.attributes.length > 0) {
      a[Attr.AttributeNames] = this.attributes.map((x) => x.name);
      for (const x of this.attributes) a[attr(x.name, AttributeSuffix.Value)] = x.value;
    }
  }
}

/** Object and data subject of personal-data events. */
export interface PersonalDataOptions extends AuditEventOptions {
  /** Type of the object holding the data, e.g. "customer record". */
  objectType: string;
  /** Keys identifying the object, e.g. `{ id: '4711' }`. */
  objectId: Readonly<Record<string, string>>;
  /** Type of the person the data is about, e.g. "customer". */
  subjectType: string;
  /** Keys identifying the person. */
  subjectId: Readonly<Record<string, string>>;
  subjectRole?: string;
}

abstract class PersonalDataEvent extends AuditEvent {
  readonly objectType: string;
  readonly objectId: Readonly<Record<string, string>>;
  readonly subjectType: string;
  readonly subjectId: Readonly<Record<string, string>>;
  readonly subjectRole: string | undefined;

  protected constructor(options: PersonalDataOptions) {
    super(options);
    this.objectType = options.objectType;
    this.objectId = options.objectId;
    this.subjectType = options.subjectType;
    this.subjectId = options.subjectId;
    this.subjectRole = options.subjectRole;
  }

  protected addObjectAndSubject(a: LogAttributes): void {
    a[Attr.ObjectType] = this.objectType;
    putIdMap(a, Attr.ObjectIdPrefix, this.objectId);
    a[Attr.DataSubjectType] = this.subjectType;
    if (this.subjectRole !== undefined) a[Attr.DataSubjectRole] = this.subjectRole;
    putIdMap(a, Attr.DataSubjectIdPrefix, this.subjectId);
  }
}

export interface DataAccessEventOptions extends PersonalDataOptions {
  /** The attributes that were read (at least one). */
  attributes: readonly DataAccessAttribute[];
  /** How the data was accessed, e.g. "UI", "API". */
  channel?: string;
  attachments?: readonly Attachment[];
  identityProvider?: string;
  /** Outcome; kept in the local record (SAP's data accesses have no `success`). */
  success?: boolean;
}

/** A read of sensitive personal data (read-access logging): SAP `data-accesses`. */
export class DataAccessEvent extends PersonalDataEvent {
  readonly eventName = AuditEventName.DataAccess;
  readonly attributes: readonly DataAccessAttribute[];
  readonly channel: string | undefined;
  readonly attachments: readonly Attachment[];
  readonly identityProvider: string | undefined;
  readonly success: boolean | undefined;

  constructor(options: DataAccessEventOptions) {
    super(options);
    this.attributes = options.attributes;
    this.channel = options.channel;
    this.attachments = options.attachments ?? [];
    this.identityProvider = options.identityProvider;
    this.success = options.success;
  }

  protected override attributeNames(): readonly string[] {
    return this.attributes.map((x) => x.name);
  }

  protected addAttributes(a: LogAttributes): void {
    if (this.success !== undefined) a[Attr.Success] = this.success;
    if (this.identityProvider !== undefined) a[Attr.IdentityProvider] = this.identityProvider;
    if (this.channel !== undefined) a[Attr.Channel] = this.channel;
    this.addObjectAndSubject(a);
    a[Attr.AttributeNames] = this.attributes.map((x) => x.name);
    for (const x of this.attributes) {
      if (x.successful !== undefined) a[attr(x.name, AttributeSuffix.Successful)] = x.successful;
    }
    if (this.attachments.length > 0) {
      a[Attr.AttachmentIds] = this.attachments.map((x) => x.id);
      if (this.attachments.some((x) => x.name !== undefined)) {
        a[Attr.AttachmentNames] = this.attachments.map((x) => x.name ?? '');
      }
    }
  }
}

interface TransactionalOptions {
  /** Whether the change succeeded; omit to log the intention (SAP's transactional `success`). */
  success?: boolean;
  /** SAP message `id`. */
  id?: string;
}

export interface DataModificationEventOptions extends PersonalDataOptions, TransactionalOptions {
  /** The changed attributes (at least one), each with its new and, if any, old value. */
  attributes: readonly ChangeAttribute[];
}

/** A change to personal data: SAP `data-modifications`. */
export class DataModificationEvent extends PersonalDataEvent {
  readonly eventName = AuditEventName.DataModification;
  readonly attributes: readonly ChangeAttribute[];
  readonly success: boolean | undefined;
  readonly id: string | undefined;

  constructor(options: DataModificationEventOptions) {
    super(options);
    this.attributes = options.attributes;
    this.success = options.success;
    this.id = options.id;
  }

  protected override attributeNames(): readonly string[] {
    return this.attributes.map((x) => x.name);
  }

  protected addAttributes(a: LogAttributes): void {
    addTransactional(a, this);
    this.addObjectAndSubject(a);
    addChanges(a, this.attributes);
  }
}

export interface DataDeletionEventOptions extends PersonalDataOptions, TransactionalOptions {
  /** The deleted attributes (at least one), with their old values. */
  attributes: readonly DeletedAttribute[];
}

/** A deletion of personal data: SAP `data-modifications` with only old values. */
export class DataDeletionEvent extends PersonalDataEvent {
  readonly eventName = AuditEventName.DataDeletion;
  readonly attributes: readonly DeletedAttribute[];
  readonly success: boolean | undefined;
  readonly id: string | undefined;

  constructor(options: DataDeletionEventOptions) {
    super(options);
    this.attributes = options.attributes;
    this.success = options.success;
    this.id = options.id;
  }

  protected override attributeNames(): readonly string[] {
    return this.attributes.map((x) => x.name);
  }

  protected addAttributes(a: LogAttributes): void {
    addTransactional(a, this);
    this.addObjectAndSubject(a);
    addDeletions(a, this.attributes);
  }
}

export interface ConfigurationEventOptions extends AuditEventOptions, TransactionalOptions {
  /** Type of the configured object, e.g. "tenant settings". */
  objectType: string;
  objectId: Readonly<Record<string, string>>;
}

export interface ConfigurationChangeEventOptions extends ConfigurationEventOptions {
  attributes: readonly ChangeAttribute[];
}

/** A configuration change: SAP `configuration-changes`. */
export class ConfigurationChangeEvent extends AuditEvent {
  readonly eventName = AuditEventName.ConfigurationChange;
  readonly objectType: string;
  readonly objectId: Readonly<Record<string, string>>;
  readonly attributes: readonly ChangeAttribute[];
  readonly success: boolean | undefined;
  readonly id: string | undefined;

  constructor(options: ConfigurationChangeEventOptions) {
    super(options);
    this.objectType = options.objectType;
    this.objectId = options.objectId;
    this.attributes = options.attributes;
    this.success = options.success;
    this.id = options.id;
  }

  protected override attributeNames(): readonly string[] {
    return this.attributes.map((x) => x.name);
  }

  protected addAttributes(a: LogAttributes): void {
    addTransactional(a, this);
    a[Attr.ObjectType] = this.objectType;
    putIdMap(a, Attr.ObjectIdPrefix, this.objectId);
    addChanges(a, this.attributes);
  }
}

export interface ConfigurationDeletionEventOptions extends ConfigurationEventOptions {
  attributes: readonly DeletedAttribute[];
}

/** A deleted configuration: SAP `configuration-changes` with only old values. */
export class ConfigurationDeletionEvent extends AuditEvent {
  readonly eventName = AuditEventName.ConfigurationDeletion;
  readonly objectType: string;
  readonly objectId: Readonly<Record<string, string>>;
  readonly attributes: readonly DeletedAttribute[];
  readonly success: boolean | undefined;
  readonly id: string | undefined;

  constructor(options: ConfigurationDeletionEventOptions) {
    super(options);
    this.objectType = options.objectType;
    this.objectId = options.objectId;
    this.attributes = options.attributes;
    this.success = options.success;
    this.id = options.id;
  }

  protected override attributeNames(): readonly string[] {
    return this.attributes.map((x) => x.name);
  }

  protected addAttributes(a: LogAttributes): void {
    addTransactional(a, this);
    a[Attr.ObjectType] = this.objectType;
    putIdMap(a, Attr.ObjectIdPrefix, this.objectId);
    addDeletions(a, this.attributes);
  }
}

function addTransactional(a: LogAttributes, e: { success: boolean | undefined; id: string | undefined }): void {
  if (e.success !== undefined) a[Attr.Success] = e.success;
  if (e.id !== undefined) a[Attr.MessageId] = e.id;
}

function addChanges(a: LogAttributes, changes: readonly ChangeAttribute[]): void {
  a[Attr.AttributeNames] = changes.map((x) => x.name);
  for (const x of changes) {
    if (x.oldValue !== undefined) a[attr(x.name, AttributeSuffix.Old)] = x.oldValue;
    a[attr(x.name, AttributeSuffix.New)] = x.newValue;
  }
}

function addDeletions(a: LogAttributes, deletions: readonly DeletedAttribute[]): void {
  a[Attr.AttributeNames] = deletions.map((x) => x.name);
  for (const x of deletions) {
    if (x.oldValue !== undefined) a[attr(x.name, AttributeSuffix.Old)] = x.oldValue;
  }
}

export { ChangeAttribute, DataAccessAttribute, DeletedAttribute, SecurityEventAttribute };
