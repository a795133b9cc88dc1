import type { SchemaObject } from 'ajv';

/** Where a client of an SAP service finds its credentials (docs/configuration.md). */
export type BindingSource = 'auto' | 'config' | 'vcap' | 'service_binding';

/** The `uaa` object of an SAP service key or binding (XSUAA client credentials: a secret or an X.509 certificate). */
export interface UaaConfig {
  url?: string;
  clientid?: string;
  clientsecret?: string;
  certurl?: string;
  certificate?: string;
  key?: string;
  'credential-type'?: string;
  identityzone?: string;
}

/** The credential settings every SAP client component has (the exporter adds basic auth for the standard plan). */
export interface BindingConfig {
  binding: BindingSource;
  /** Which binding to use when several are found (binding or instance name). */
  binding_name?: string;
  /** The API base URL (the binding's `url`). */
  url?: string;
  uaa?: UaaConfig;
  /** Standard plan (basic auth): only the write API has it. */
  user?: string;
  password?: string;
}

const UAA_KEYS = [
  'url',
  'clientid',
  'clientsecret',
  'certurl',
  'certificate',
  'key',
  'credential-type',
  'identityzone',
] as const;

/** The schema of `binding`, `binding_name`, `url` and `uaa`. */
export function bindingSchemaProperties(): Record<string, SchemaObject> {
  return {
    binding: { enum: ['auto', 'config', 'vcap', 'service_binding'], default: 'auto' },
    binding_name: { type: 'string', minLength: 1 },
    url: { type: 'string', pattern: '^https?://' },
    uaa: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        clientid: { type: 'string', minLength: 1 },
        clientsecret: { type: 'string', minLength: 1 },
        certurl: { type: 'string', pattern: '^https://' },
        certificate: { type: 'string', minLength: 1 },
        key: { type: 'string', minLength: 1 },
        'credential-type': { type: 'string' },
        identityzone: { type: 'string' },
      },
    },
  };
}

/**
 * `uaa` may come as the JSON text of a binding's uaa object (e.g. `uaa: ${env:AUDITLOG_UAA}`): parse
 * it and keep the keys the client uses (a binding's uaa object has more: xsappname, uaadomain …).
 */
export function normalizeUaa(raw: unknown): unknown {
  const config = raw as { uaa?: unknown } | null;
  if (config && typeof config.uaa === 'string' && config.uaa.trim().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(config.uaa) as unknown;
    } catch {
      // left as is: the schema reports that uaa must be an object (without quoting the secret text)
    }
    if (typeof parsed === 'object' && parsed !== null) {
      const all = parsed as Record<string, unknown>;
      config.uaa = Object.fromEntries(UAA_KEYS.filter((k) => all[k] !== undefined).map((k) => [k, all[k]]));
    }
  }
  return raw;
}

/** Whether the uaa credentials are a certificate (mTLS to `certurl`) rather than a client secret. */
export function isX509(uaa: Readonly<UaaConfig>): boolean {
  return uaa['credential-type'] === 'x509' || (uaa.clientsecret === undefined && uaa.certificate !== undefined);
}
