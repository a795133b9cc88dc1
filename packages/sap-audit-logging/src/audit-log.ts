/** `v2()`: the entry point of `@sap/audit-logging` v2, with the sidecar as the transport. */
import type { AuditClient } from '@otel-audit/sdk';
import { auditLogV2, type AuditLogV2 } from './messages.js';
import { eventFactory, type EventFactory, type Sdk, type Semconv } from './to-event.js';
import { consoleTransport, SidecarTransport } from './transports.js';
import type { Credentials, SidecarOptions } from './types.js';
import * as check from './validate.js';

export type V2Callback = (err: Error | null, auditLog?: AuditLogV2) => void;

interface Loaded {
  readonly sdk: Sdk;
  readonly toEvent: EventFactory;
}

let loading: Promise<Loaded> | undefined;

/** The SDK and semconv are ES modules: a CommonJS module loads them with `import()`, once. */
function load(): Promise<Loaded> {
  loading ??= Promise.all([import('@otel-audit/sdk'), import('@otel-audit/semconv')]).then(
    ([sdk, semconv]: [Sdk, Semconv]) => ({ sdk, toEvent: eventFactory(sdk, semconv) }),
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/**
 * One SDK client per sidecar configuration, shared by every `v2()` call: the middleware calls
 * `v2()` for each request, and each client holds a connection pool.
 */
const clients = new Map<string, AuditClient>();

/** The `otelAudit` keys, and only those, for the SDK's client. */
function sidecarOptions(credentials: Credentials): SidecarOptions {
  const options = credentials.otelAudit;
  if (options === undefined) return {};
  const given: unknown = options;
  check.object(given, 'credentials.otelAudit');
  const { endpoint, protocol, headers, timeoutMillis, compression, logTimeoutMillis, resource } = options;
  return { endpoint, protocol, headers, timeoutMillis, compression, logTimeoutMillis, resource };
}

function clientFor(sdk: Sdk, options: SidecarOptions): AuditClient {
  const key = JSON.stringify(options);
  let client = clients.get(key);
  if (client === undefined) {
    client = sdk.createAuditClient(options);
    clients.set(key, client);
  }
  return client;
}

async function create(credentials: Credentials): Promise<AuditLogV2> {
  if (credentials.logToConsole === true) return auditLogV2(consoleTransport);
  const options = sidecarOptions(credentials);
  const { sdk, toEvent } = await load();
  return auditLogV2(new SidecarTransport(clientFor(sdk, options), toEvent));
}

/**
 * `v2(credentials[, securityContext][, callback])`. The credentials (the audit log binding) are
 * not used for sending, except `logToConsole` and the drop-in's own `otelAudit` options; the
 * security context is checked and not used (see docs/migrating-from-sap-audit-logging.md).
 */
export function v2<B extends object>(credentials: Credentials<B>, callback: V2Callback): undefined;
export function v2<B extends object>(
  credentials: Credentials<B>,
  securityContext: object | null | undefined,
  callback: V2Callback,
): undefined;
export function v2<B extends object>(credentials: Credentials<B>, securityContext?: object | null): Promise<AuditLogV2>;
export function v2(credentials: Credentials, ...rest: unknown[]): Promise<AuditLogV2> | undefined {
  check.object(credentials, 'Credentials');
  let [securityContext, callback] = rest;
  // `v2(credentials, callback)` as well as `v2(credentials, securityContext, callback)`.
  if (rest.length === 1) {
    if (securityContext && !callback && typeof securityContext === 'function') {
      callback = securityContext;
      securityContext = null;
    }
    if (!securityContext) securityContext = null;
  }
  if (securityContext) check.object(securityContext, 'SecurityContext');
  if (callback) {
    check.callback(callback);
    const cb = callback as V2Callback;
    create(credentials).then(
      (auditLog) => cb(null, auditLog),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
    return undefined;
  }
  return create(credentials);
}

/** Waits until every record logged so far is acknowledged or failed. */
export async function flush(): Promise<void> {
  await Promise.all([...clients.values()].map((c) => c.flush()));
}

/** Flushes, then closes the connections to the sidecar. A later `v2()` starts afresh. */
export async function shutdown(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((c) => c.shutdown()));
}
