import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isX509, type BindingConfig, type BindingSource, type UaaConfig } from './binding-config.js';

/** Which SAP service a client looks for, and how messages name it. */
export interface SapService {
  /** The `VCAP_SERVICES` label and service binding type. */
  readonly label: string;
  /** The service's name in messages. */
  readonly title: string;
  /** The kind of component whose config may hold `url`/`uaa` (`exporter`, `receiver`). */
  readonly component: string;
  /** Whether user/password (the write API's standard plan) is a way to authenticate. */
  readonly basicAuth: boolean;
  /** The credential keys a component's config may hold instead of a binding, for messages. */
  readonly configKeys?: string;
  /** Whether a `VCAP_SERVICES` entry may also be found by its name (user-provided services have the label `user-provided`). */
  readonly matchName?: boolean;
}

/** The write API (`auditlog` service: premium, oauth2 and standard plans). */
export const AUDITLOG_WRITE_API: SapService = {
  label: 'auditlog',
  title: 'SAP Audit Log Service',
  component: 'exporter',
  basicAuth: true,
};

/** The Retrieval API (`auditlog-management` service: default and central plans). */
export const AUDITLOG_RETRIEVAL_API: SapService = {
  label: 'auditlog-management',
  title: 'SAP Audit Log Retrieval API',
  component: 'receiver',
  basicAuth: false,
};

/** Credentials for an SAP Audit Log Service API (write or retrieval), wherever they came from. */
export interface AuditLogCredentials {
  /** API base URL. */
  readonly url: string;
  /** The service plan, when the binding says (`premium`, `oauth2`, `standard`). */
  readonly plan: string | undefined;
  readonly uaa: Readonly<UaaConfig> | undefined;
  /** Standard plan: basic auth. */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Where they were found, for messages (never the values). */
  readonly source: string;
  /** For mounted bindings: the directory to watch for rotation. */
  readonly watchDirectory: string | undefined;
}

/** A binding found in `VCAP_SERVICES` or under `$SERVICE_BINDING_ROOT`, before a service reads its credentials. */
export interface FoundBinding {
  readonly credentials: Record<string, unknown>;
  readonly plan: string | undefined;
  /** Where it was found, for messages (never the values). */
  readonly source: string;
  /** For mounted bindings: the directory to watch for rotation. */
  readonly watchDirectory: string | undefined;
}

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** A non-empty string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** JSON.parse whose error names only `what`: V8's message quotes the text around the error, which may be a secret. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CredentialsError(`${what} is not valid JSON`);
  }
}

function parseUaa(v: unknown): UaaConfig | undefined {
  if (typeof v === 'string') {
    try {
      return parseUaa(JSON.parse(v));
    } catch {
      return undefined;
    }
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  return {
    url: str(o['url']),
    clientid: str(o['clientid']),
    clientsecret: str(o['clientsecret']),
    certurl: str(o['certurl']),
    certificate: str(o['certificate']),
    key: str(o['key']),
    'credential-type': str(o['credential-type']),
    identityzone: str(o['identityzone']),
  };
}

function fromCredentialObject(
  creds: Record<string, unknown>,
  plan: string | undefined,
  source: string,
  watchDirectory?: string,
): AuditLogCredentials {
  const url = str(creds['url']);
  if (url === undefined) throw new CredentialsError(`${source}: the credentials have no url`);
  return {
    url,
    plan: plan ?? str(creds['plan']),
    uaa: parseUaa(creds['uaa']) ?? kymaReadCredentials(creds),
    user: str(creds['user']),
    password: str(creds['password']),
    source,
    watchDirectory,
  };
}

/**
 * Kyma's "Audit Log Access" Secret (`auditlog-read-credentials`: `url`, `clientID`, `clientSecret`,
 * `tokenUrl`) as uaa credentials.
 */
function kymaReadCredentials(creds: Record<string, unknown>): UaaConfig | undefined {
  const clientid = str(creds['clientID']);
  const clientsecret = str(creds['clientSecret']);
  const tokenUrl = str(creds['tokenUrl']);
  if (clientid === undefined || clientsecret === undefined || tokenUrl === undefined) return undefined;
  return { clientid, clientsecret, url: tokenUrl.replace(/\/oauth\/token\/?$/, '') };
}

/** Checks that the credentials are complete for one of the supported forms. */
export function checkCredentials(c: AuditLogCredentials, service: SapService = AUDITLOG_WRITE_API): void {
  const where = c.source;
  if (c.uaa === undefined) {
    if (!service.basicAuth) throw new CredentialsError(`${where}: the credentials have no uaa (OAuth2 client)`);
    if (c.user === undefined || c.password === undefined) {
      throw new CredentialsError(`${where}: neither uaa (OAuth2) nor user/password (standard plan) credentials`);
    }
    return;
  }
  if (c.uaa.clientid === undefined) throw new CredentialsError(`${where}: uaa.clientid is missing`);
  if (isX509(c.uaa)) {
    if (c.uaa.certurl === undefined) throw new CredentialsError(`${where}: x509 credentials need uaa.certurl`);
    if (c.uaa.certificate === undefined || c.uaa.key === undefined) {
      throw new CredentialsError(`${where}: x509 credentials need uaa.certificate and uaa.key`);
    }
  } else {
    if (c.uaa.url === undefined) throw new CredentialsError(`${where}: uaa.url is missing`);
    if (c.uaa.clientsecret === undefined) {
      throw new CredentialsError(
        `${where}: uaa.clientsecret is missing (or give an x509 binding with certurl, certificate and key)`,
      );
    }
  }
}

function fromConfig(config: BindingConfig, service: SapService): AuditLogCredentials | undefined {
  if (config.url === undefined) return undefined;
  return {
    url: config.url,
    plan: undefined,
    uaa: config.uaa,
    user: config.user,
    password: config.password,
    source: `the ${service.component} config`,
    watchDirectory: undefined,
  };
}

interface VcapEntry {
  label?: string;
  name?: string;
  instance_name?: string;
  plan?: string;
  tags?: string[];
  credentials?: Record<string, unknown>;
}

function fromVcap(env: Env, name: string | undefined, service: SapService): FoundBinding | undefined {
  const raw = env['VCAP_SERVICES'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const label = service.label;
  const services = parseJson(raw, 'VCAP_SERVICES') as Record<string, VcapEntry[]>;
  const all = Object.values(services).flat();
  const candidates = all.filter(
    (e) => e.label === label || (e.tags ?? []).includes(label) || (service.matchName === true && e.name === label),
  );
  const entry =
    name === undefined ? candidates[0] : candidates.find((e) => e.name === name || e.instance_name === name);
  if (entry?.credentials === undefined) return undefined;
  return {
    credentials: entry.credentials,
    plan: entry.plan,
    source: `VCAP_SERVICES (${entry.name ?? label})`,
    watchDirectory: undefined,
  };
}

interface MetadataProperty {
  name: string;
  format?: 'text' | 'json';
  container?: boolean;
}

interface BindingMetadata {
  metaDataProperties?: MetadataProperty[];
  credentialProperties?: MetadataProperty[];
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/**
 * One servicebinding.io directory in any layout the SAP BTP service operator writes: key-value
 * files described by `.metadata` (JSON-valued keys parsed), one key holding all credentials
 * (`secretKey`, marked `container` in `.metadata`), one key holding credentials and instance info
 * (`secretRootKey`, no `.metadata`), or plain files without `.metadata`.
 */
async function readBindingDirectory(
  dir: string,
): Promise<{ type?: string; plan?: string; credentials?: Record<string, unknown> }> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith('..') && n !== '..data');
  const metadataText = await readText(join(dir, '.metadata'));
  if (metadataText !== undefined) {
    const metadata = parseJson(metadataText, join(dir, '.metadata')) as BindingMetadata;
    const info: Record<string, string> = {};
    for (const p of metadata.metaDataProperties ?? []) {
      const v = await readText(join(dir, p.name));
      if (v !== undefined) info[p.name] = v;
    }
    const container = (metadata.credentialProperties ?? []).find((p) => p.container === true);
    if (container !== undefined) {
      const text = await readText(join(dir, container.name));
      return {
        type: info['type'] ?? info['label'],
        plan: info['plan'],
        credentials: text ? (parseJson(text, join(dir, container.name)) as Record<string, unknown>) : undefined,
      };
    }
    const credentials: Record<string, unknown> = {};
    for (const p of metadata.credentialProperties ?? []) {
      const v = await readText(join(dir, p.name));
      if (v === undefined) continue;
      credentials[p.name] = p.format === 'json' ? parseJson(v, join(dir, p.name)) : v;
    }
    return { type: info['type'] ?? info['label'], plan: info['plan'], credentials };
  }
  const files: Record<string, string> = {};
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const path = join(dir, n);
    if ((await stat(path)).isFile()) files[n] = (await readText(path)) ?? '';
  }
  if (files['url'] !== undefined) {
    return { type: files['type'] ?? files['label'], plan: files['plan'], credentials: files };
  }
  // secretRootKey: one key with credentials and instance info together.
  for (const text of Object.values(files)) {
    if (!text.startsWith('{')) continue;
    try {
      const root = JSON.parse(text) as Record<string, unknown>;
      if (typeof root['url'] === 'string') {
        return { type: str(root['type']) ?? str(root['label']), plan: str(root['plan']), credentials: root };
      }
    } catch {
      // not JSON: not the root key
    }
  }
  return { type: files['type'] ?? files['label'], plan: files['plan'] };
}

async function fromServiceBindings(
  env: Env,
  name: string | undefined,
  label: string,
): Promise<FoundBinding | undefined> {
  const root = env['SERVICE_BINDING_ROOT'];
  if (root === undefined || root === '') return undefined;
  let entries: string[];
  try {
    entries = (await readdir(root)).sort();
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const dir = join(root, entry);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) continue;
    if (name !== undefined && entry !== name) continue;
    const b = await readBindingDirectory(dir);
    const isService = b.type === label || entry === label || name !== undefined;
    if (!isService || b.credentials === undefined) continue;
    return { credentials: b.credentials, plan: b.plan, source: `service binding ${dir}`, watchDirectory: dir };
  }
  return undefined;
}

/** Where a component looks for its credentials, and what it makes of what it finds. */
export interface CredentialSearch<T> {
  readonly binding: BindingSource;
  /** Which binding to use when several are found (binding or instance name). */
  readonly bindingName: string | undefined;
  /** The credentials in the component's own config, if it has them. */
  fromConfig(): T | undefined;
  /** The service's credentials from a binding that was found. */
  fromBinding(found: FoundBinding): T;
  /** Throws a CredentialsError naming what is missing. */
  check(credentials: T): void;
}

/**
 * Finds a component's credentials for `service` (`binding: auto`: the component's config, then
 * `$SERVICE_BINDING_ROOT`, then `VCAP_SERVICES`). The error says everything that was looked at.
 */
export async function findCredentials<T>(search: CredentialSearch<T>, env: Env, service: SapService): Promise<T> {
  const label = service.label;
  const name = search.bindingName;
  const looked: string[] = [];
  const attempt = async (kind: Exclude<BindingSource, 'auto'>): Promise<T | undefined> => {
    switch (kind) {
      case 'config':
        looked.push(`${service.configKeys ?? 'url/uaa'} in the ${service.component} config`);
        return search.fromConfig();
      case 'service_binding': {
        looked.push(
          env['SERVICE_BINDING_ROOT']
            ? `bindings of type ${label}${name ? ` named ${name}` : ''} under SERVICE_BINDING_ROOT=${env['SERVICE_BINDING_ROOT']}`
            : 'SERVICE_BINDING_ROOT (not set)',
        );
        const found = await fromServiceBindings(env, name, label);
        return found === undefined ? undefined : search.fromBinding(found);
      }
      case 'vcap': {
        looked.push(
          env['VCAP_SERVICES']
            ? `VCAP_SERVICES entries labelled ${label}${service.matchName ? ` (or named ${label})` : ''}${name ? ` named ${name}` : ''}`
            : 'VCAP_SERVICES (not set)',
        );
        const found = fromVcap(env, name, service);
        return found === undefined ? undefined : search.fromBinding(found);
      }
    }
  };
  const order: Exclude<BindingSource, 'auto'>[] =
    search.binding === 'auto' ? ['config', 'service_binding', 'vcap'] : [search.binding];
  for (const kind of order) {
    const found = await attempt(kind);
    if (found !== undefined) {
      search.check(found);
      return found;
    }
  }
  throw new CredentialsError(`no ${service.title} credentials found; looked at: ${looked.join('; ')}`);
}

/** Finds the credentials of an SAP Audit Log Service API (write or retrieval) for a component. */
export function resolveCredentials(
  config: BindingConfig,
  env: Env = process.env,
  service: SapService = AUDITLOG_WRITE_API,
): Promise<AuditLogCredentials> {
  return findCredentials(
    {
      binding: config.binding,
      bindingName: config.binding_name,
      fromConfig: () => fromConfig(config, service),
      fromBinding: (b) => fromCredentialObject(b.credentials, b.plan, b.source, b.watchDirectory),
      check: (c) => checkCredentials(c, service),
    },
    env,
    service,
  );
}

/** A fingerprint of a binding directory's contents, to notice rotated credentials. */
export async function directoryFingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('..')) continue;
    const text = await readText(join(dir, name));
    hash
      .update(name)
      .update('\0')
      .update(text ?? '')
      .update('\0');
  }
  return hash.digest('hex');
}
