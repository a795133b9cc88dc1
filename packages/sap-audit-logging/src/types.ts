/** The public types of the `@sap/audit-logging` v2 surface. */
import type { AuditLogV2 } from './messages.js';

/** `{ type, id }` of the object holding the data (`read`, `update`, `configurationChange`). */
export interface AccessedObject {
  type: string;
  /** At least one key; every value a string. */
  id: Record<string, string>;
}

/** The person the personal data is about. */
export interface DataSubject extends AccessedObject {
  role?: string;
}

/** An attribute that was read; `successful` says whether reading it succeeded. */
export interface DataAccessAttribute {
  name: string;
  successful?: boolean;
}

/** A changed personal-data attribute: `old` and `new` both (strings, `''` allowed) or neither. */
export interface DataModificationAttribute {
  name: string;
  old?: string;
  new?: string;
}

/** A changed configuration attribute: `old` and `new` are required strings (`''` allowed). */
export interface ConfigurationAttribute {
  name: string;
  old: string;
  new: string;
}

/** An attachment or file that was downloaded or displayed. */
export interface Attachment {
  id: string;
  name?: string;
}

/**
 * Called once the record is durably stored by the sidecar (`err` null, `id` the message uuid), or
 * with the error that kept it from being stored. With `logToConsole` it is called at once with `null`.
 */
export type LogCallback = (err: Error | null, id?: string) => void;

/**
 * Where the sidecar is and how long `log()` may take; everything else of the SDK's client options
 * is fixed by the drop-in. Unset fields come from the `OTEL_EXPORTER_OTLP_*` variables, then the
 * defaults (`http://127.0.0.1:4318`, OTLP/HTTP protobuf, 30 s per `log()`).
 */
export interface SidecarOptions {
  /** Base URL of the sidecar's OTLP receiver (`/v1/logs` is appended for HTTP). */
  endpoint?: string;
  protocol?: 'http/protobuf' | 'http/json' | 'grpc';
  headers?: Record<string, string>;
  /** Per-request timeout. */
  timeoutMillis?: number;
  compression?: 'gzip' | 'none';
  /** How long one `log*()` may take, retries included, before it fails. Default 30000. */
  logTimeoutMillis?: number;
  /** Resource attributes added to the detected ones (`service.name`, ...). */
  resource?: Record<string, string>;
}

/**
 * What the drop-in reads from the credentials `v2()` gets. The rest of them (the audit log binding:
 * `url`, `uaa`, or `user`/`password`) is accepted and not used for sending: the sidecar holds the
 * binding. `Credentials<B>` is any binding `B` with these two optional keys.
 */
export interface CredentialsOptions {
  /** Write each message to the console instead of sending it (local development). */
  logToConsole?: boolean;
  /** Where the sidecar is (an addition of the drop-in). */
  otelAudit?: SidecarOptions;
}

export type Credentials<B extends object = object> = B & CredentialsOptions;

/** The request the middleware decorates. */
export interface AuditLogRequest {
  /** Set by `@sap/xssec`'s middleware; passed to `v2()` as the security context. */
  authInfo?: object;
  auditLog?: AuditLogV2;
}

export type Next = (err?: unknown) => void;
