/**
 * The fluent messages of `@sap/audit-logging` v2. Every builder method checks its argument and
 * throws at once, as the original does; `log*()` checks what the message still lacks, gives it a
 * new uuid and time, and hands it to the transport.
 */
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import type {
  AccessedObject,
  Attachment,
  ConfigurationAttribute,
  DataAccessAttribute,
  DataModificationAttribute,
  DataSubject,
  LogCallback,
} from './types.js';
import * as check from './validate.js';

export type MessageKind = 'security' | 'data-access' | 'data-modification' | 'configuration-change';

/**
 * The message as `@sap/audit-logging` builds it: fields in the order the calls set them, so the
 * console output matches the original's. The objects the caller passed are kept as given.
 */
export interface MessageContent {
  object?: AccessedObject;
  data?: string;
  attributes?: (DataAccessAttribute | DataModificationAttribute | ConfigurationAttribute)[];
  attachments?: Attachment[];
  data_subject?: DataSubject;
  data_subjects?: DataSubject[];
  channel?: string;
  ip?: string;
  user?: string;
  tenant?: string;
  uuid?: string;
  time?: string;
  success?: boolean;
}

/** A message at the moment one of its `log*()` methods is called. */
export interface LoggedMessage {
  readonly kind: MessageKind;
  readonly content: MessageContent;
  /** The second argument of `tenant()`: the subscriber whose token SAP is written with. */
  readonly subdomain: unknown;
}

/** Sends a logged message; returns what `log*()` returns. */
export interface Transport {
  log(message: LoggedMessage, callback: LogCallback | undefined): Promise<string | undefined> | undefined;
}

/**
 * A fresh message id per `log*()` call. `@sap/audit-logging` sends 32 upper-case hex digits; the
 * sidecar takes UUIDs (8-4-4-4-12), so this is a random (v4) UUID in upper case: the same digits
 * with dashes (`id.replace(/-/g, '')` gives the original's form).
 */
function newUuid(): string {
  return randomUUID().toUpperCase();
}

abstract class Message {
  /** Named as in `@sap/audit-logging`, for code that reads it. */
  readonly _content: MessageContent;
  private customTime: string | undefined;
  private subdomain: unknown;

  protected constructor(
    content: MessageContent,
    private readonly transport: Transport,
    private readonly kind: MessageKind,
  ) {
    this._content = content;
  }

  /** The acting user (mandatory); `'$USER'` lets SAP take the user from the token. */
  by(user: string): this {
    check.notEmptyString(user, 'user');
    this._content.user = user;
    return this;
  }

  /** `'$PROVIDER'`, `'$SUBSCRIBER'` (with the subscriber's subdomain) or a zone id. */
  tenant(tenant: string, subdomain?: string): this {
    check.notEmptyString(tenant, 'tenant');
    this._content.tenant = tenant;
    this.subdomain = subdomain;
    return this;
  }

  /** When it happened (a Date, epoch milliseconds or an ISO string); now by default. Throws a RangeError for an invalid time. */
  at(time: Date | number | string): this {
    const date = time instanceof Date ? time : new Date(time);
    this.customTime = date.toISOString();
    return this;
  }

  /** What `log*()` checks before sending (the builder methods checked the rest). */
  protected validateContent(): void {
    check.provided(this._content.user, 'user');
  }

  protected send(success: boolean | undefined, callback: unknown): Promise<string | undefined> | undefined {
    if (callback) check.callback(callback);
    // A new uuid and time on every call, before the checks, as the original does.
    this._content.uuid = newUuid();
    this._content.time = this.customTime ?? new Date().toISOString();
    this.validateContent();
    if (success !== undefined) this._content.success = success;
    return this.transport.log(
      { kind: this.kind, content: this._content, subdomain: this.subdomain },
      callback as LogCallback | undefined,
    );
  }
}

/** Personal-data and configuration messages: an accessed object and at least one attribute. */
abstract class ObjectMessage<A extends { name: string }> extends Message {
  protected constructor(object: AccessedObject, transport: Transport, kind: MessageKind) {
    super({ object, attributes: [] }, transport, kind);
  }

  protected get attributeList(): A[] {
    return this._content.attributes as A[];
  }

  protected addAttribute(attribute: A): this {
    this.attributeList.push(attribute);
    return this;
  }

  protected override validateContent(): void {
    super.validateContent();
    check.atLeastOneAttribute(this.attributeList);
  }
}

/** The transactional messages: `logPrepare()` (an intention), then `logSuccess()` or `logFailure()`. */
abstract class TransactionalMessage<A extends { name: string }> extends ObjectMessage<A> {
  /** Logs the intention (no `success`). Throws if `logSuccess()` or `logFailure()` was called before. */
  logPrepare(): Promise<string | undefined>;
  logPrepare(callback: LogCallback): void;
  logPrepare(callback?: LogCallback): Promise<string | undefined> | undefined {
    if (Object.prototype.hasOwnProperty.call(this._content, 'success')) {
      throw new Error(`${this._content.success ? 'logSuccess' : 'logFailure'} already called on the current message`);
    }
    return this.send(undefined, callback);
  }

  /** Logs the message again, with `success: true`, as a new record (new uuid and time). */
  logSuccess(): Promise<string | undefined>;
  logSuccess(callback: LogCallback): void;
  logSuccess(callback?: LogCallback): Promise<string | undefined> | undefined {
    return this.send(true, callback);
  }

  /** Logs the message again, with `success: false`, as a new record (new uuid and time). */
  logFailure(): Promise<string | undefined>;
  logFailure(callback: LogCallback): void;
  logFailure(callback?: LogCallback): Promise<string | undefined> | undefined {
    return this.send(false, callback);
  }
}

function setDataSubject(message: Message, subject: DataSubject): void {
  check.dataSubject(subject, 'data-subject');
  message._content.data_subject = subject;
}

/** A general security event (`securityMessage(format, ...args)`). */
export class SecurityMessage extends Message {
  constructor(data: string, transport: Transport) {
    super({ data }, transport, 'security');
  }

  /** The IP address of the machine that contacts the system. */
  externalIP(ip: string): this {
    check.notEmptyString(ip, 'externalIP');
    this._content.ip = ip;
    return this;
  }

  log(): Promise<string | undefined>;
  log(callback: LogCallback): void;
  log(callback?: LogCallback): Promise<string | undefined> | undefined {
    return this.send(undefined, callback);
  }
}

/** A read access to personal data (`read(object)`). */
export class DataAccessMessage extends ObjectMessage<DataAccessAttribute> {
  constructor(object: AccessedObject, transport: Transport) {
    super(object, transport, 'data-access');
  }

  attribute(attribute: DataAccessAttribute): this {
    check.object(attribute, 'attribute');
    check.notEmptyString(attribute.name, 'attribute name');
    check.uniqueAttributeName(this.attributeList, attribute.name);
    if (attribute.successful !== undefined) check.boolean(attribute.successful, 'attribute successful');
    return this.addAttribute(attribute);
  }

  attachment(attachment: Attachment): this {
    check.object(attachment, 'attachment');
    check.notEmptyString(attachment.id, 'attachment id');
    if (attachment.name !== undefined) check.notEmptyString(attachment.name, 'attachment name');
    (this._content.attachments ??= []).push(attachment);
    return this;
  }

  dataSubject(subject: DataSubject): this {
    setDataSubject(this, subject);
    return this;
  }

  dataSubjects(subjects: DataSubject[]): this {
    check.notEmptyArray(subjects, 'data-subjects');
    subjects.forEach((subject, i) => check.dataSubject(subject, `data-subjects/${i}`));
    this._content.data_subjects = subjects;
    return this;
  }

  accessChannel(channel: string): this {
    check.notEmptyString(channel, 'accessChannel');
    this._content.channel = channel;
    return this;
  }

  log(): Promise<string | undefined>;
  log(callback: LogCallback): void;
  log(callback?: LogCallback): Promise<string | undefined> | undefined {
    return this.send(undefined, callback);
  }

  protected override validateContent(): void {
    super.validateContent();
    check.provided(this._content.data_subjects ?? this._content.data_subject, 'data-subject(s)');
  }
}

/** A change to personal data (`update(object)`). */
export class DataModificationMessage extends TransactionalMessage<DataModificationAttribute> {
  constructor(object: AccessedObject, transport: Transport) {
    super(object, transport, 'data-modification');
  }

  attribute(attribute: DataModificationAttribute): this {
    check.object(attribute, 'attribute');
    check.notEmptyString(attribute.name, 'attribute name');
    check.uniqueAttributeName(this.attributeList, attribute.name);
    if (attribute.old !== undefined || attribute.new !== undefined) {
      check.string(attribute.old, 'attribute old value');
      check.string(attribute.new, 'attribute new value');
    }
    return this.addAttribute(attribute);
  }

  dataSubject(subject: DataSubject): this {
    setDataSubject(this, subject);
    return this;
  }

  protected override validateContent(): void {
    super.validateContent();
    check.provided(this._content.data_subject, 'data-subject');
  }
}

/** A configuration change (`configurationChange(object)`). */
export class ConfigurationChangeMessage extends TransactionalMessage<ConfigurationAttribute> {
  constructor(object: AccessedObject, transport: Transport) {
    super(object, transport, 'configuration-change');
  }

  attribute(attribute: ConfigurationAttribute): this {
    check.object(attribute, 'attribute');
    check.notEmptyString(attribute.name, 'attribute name');
    check.uniqueAttributeName(this.attributeList, attribute.name);
    check.string(attribute.old, 'attribute old value');
    check.string(attribute.new, 'attribute new value');
    return this.addAttribute(attribute);
  }
}

/** The object `v2()` resolves to. */
export interface AuditLogV2 {
  read(object: AccessedObject): DataAccessMessage;
  update(object: AccessedObject): DataModificationMessage;
  configurationChange(object: AccessedObject): ConfigurationChangeMessage;
  /** `data` is `util.format(formatString, ...args)`. */
  securityMessage(formatString: unknown, ...args: unknown[]): SecurityMessage;
}

export function auditLogV2(transport: Transport): AuditLogV2 {
  return {
    configurationChange(object) {
      check.typeAndId(object, 'accessed-object');
      return new ConfigurationChangeMessage(object, transport);
    },
    read(object) {
      check.typeAndId(object, 'accessed-object');
      return new DataAccessMessage(object, transport);
    },
    update(object) {
      check.typeAndId(object, 'accessed-object');
      return new DataModificationMessage(object, transport);
    },
    securityMessage(...args: unknown[]) {
      check.provided(args[0], 'An argument');
      return new SecurityMessage(format(...args), transport);
    },
  };
}
