import type { SchemaObject } from 'ajv';
import type { BindingSource } from './binding-config.js';
import { CredentialsError, findCredentials, str, type FoundBinding, type SapService } from './credentials.js';

/**
 * The SAP Audit Log Service NG: a user-provided service named or tagged `auditlog-ng` (SAP's CAP
 * plugins for Node.js and Java look for it that way), or a mounted binding of type `auditlog-ng`.
 */
export const AUDITLOG_NG: SapService = {
  label: 'auditlog-ng',
  title: 'SAP Audit Log Service NG',
  component: 'exporter',
  basicAuth: false,
  configKeys: 'url/cert/key',
  matchName: true,
};

/** The credentials of an `auditlog-ng` binding. */
export interface NgCredentials {
  /** Base URL of the ingestion API (`/ingestion/v1/events`; the OTLP endpoint unless configured apart). */
  readonly url: string;
  /** The binding's region: the envelope `source` and the OTLP resource's `sap.ucl.deployment_id`. */
  readonly region: string;
  /** The binding's namespace: the envelope `source` and `sap.ucl.system_namespace`. */
  readonly namespace: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  readonly cert: string;
  readonly key: string;
  /** The key's passphrase (`keyPassphrase` as the Node.js CAP plugin reads it, `passphrase` as the Java one does). */
  readonly passphrase: string | undefined;
  /** Where they were found, for messages (never the values). */
  readonly source: string;
  /** For mounted bindings: the directory to watch for rotation. */
  readonly watchDirectory: string | undefined;
}

/** The credential settings of the `sap_auditlog_ng` exporter's config. */
export interface NgBindingConfig {
  binding: BindingSource;
  binding_name?: string;
  url?: string;
  region?: string;
  namespace?: string;
  cert?: string;
  key?: string;
  key_passphrase?: string;
}

export function ngBindingSchemaProperties(): Record<string, SchemaObject> {
  return {
    binding: { enum: ['auto', 'config', 'vcap', 'service_binding'], default: 'auto' },
    binding_name: { type: 'string', minLength: 1 },
    url: { type: 'string', pattern: '^https?://' },
    region: { type: 'string', minLength: 1 },
    namespace: { type: 'string', minLength: 1 },
    cert: { type: 'string', minLength: 1 },
    key: { type: 'string', minLength: 1 },
    key_passphrase: { type: 'string', minLength: 1 },
  };
}

function fromBinding(b: FoundBinding): NgCredentials {
  const c = b.credentials;
  const url = str(c['url']);
  if (url === undefined) throw new CredentialsError(`${b.source}: the credentials have no url`);
  return {
    url,
    region: str(c['region']) ?? '',
    namespace: str(c['namespace']) ?? '',
    cert: str(c['cert']) ?? '',
    key: str(c['key']) ?? '',
    passphrase: str(c['keyPassphrase']) ?? str(c['passphrase']),
    source: b.source,
    watchDirectory: b.watchDirectory,
  };
}

function fromConfig(config: NgBindingConfig): NgCredentials | undefined {
  if (config.url === undefined) return undefined;
  return {
    url: config.url,
    region: config.region ?? '',
    namespace: config.namespace ?? '',
    cert: config.cert ?? '',
    key: config.key ?? '',
    passphrase: config.key_passphrase,
    source: 'the exporter config',
    watchDirectory: undefined,
  };
}

/** Checks that nothing the exporter needs is missing; the message names the keys, never their values. */
export function checkNgCredentials(c: NgCredentials): void {
  const missing = (['region', 'namespace', 'cert', 'key'] as const).filter((k) => c[k] === '');
  if (missing.length > 0) throw new CredentialsError(`${c.source}: the credentials have no ${missing.join(', ')}`);
  if (!c.cert.includes('-----BEGIN')) throw new CredentialsError(`${c.source}: cert is not a PEM certificate`);
  if (!c.key.includes('-----BEGIN')) throw new CredentialsError(`${c.source}: key is not a PEM private key`);
}

/** Finds the `auditlog-ng` credentials (`binding: auto`: the config, `$SERVICE_BINDING_ROOT`, then `VCAP_SERVICES`). */
export function resolveNgCredentials(
  config: NgBindingConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<NgCredentials> {
  return findCredentials(
    {
      binding: config.binding,
      bindingName: config.binding_name,
      fromConfig: () => fromConfig(config),
      fromBinding,
      check: checkNgCredentials,
    },
    env,
    AUDITLOG_NG,
  );
}
