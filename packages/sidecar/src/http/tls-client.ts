import { readFile } from 'node:fs/promises';
import type { AgentOptions } from 'node:https';
import type { SchemaObject } from 'ajv';
import type { ConfigProblem } from '../config/problems.js';

/** The `tls` section of a client of an HTTPS API (exporters, the retrieval receiver). */
export interface TlsClientConfig {
  /** Extra CA certificates (PEM file) to trust for the endpoints. */
  ca_file?: string;
  /** Client certificate and key (PEM files), where the component offers mutual TLS with files. */
  cert_file?: string;
  key_file?: string;
  insecure_skip_verify: boolean;
}

/**
 * The schema of a `tls` section. `clientCertificate` adds `cert_file`/`key_file` for components
 * whose server may ask for a certificate from files (not for SAP, whose x509 comes with the binding).
 */
export function tlsClientSchema(options: { clientCertificate: boolean }): SchemaObject {
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      ca_file: { type: 'string', minLength: 1 },
      ...(options.clientCertificate
        ? { cert_file: { type: 'string', minLength: 1 }, key_file: { type: 'string', minLength: 1 } }
        : {}),
      insecure_skip_verify: { type: 'boolean', default: false },
    },
  };
}

/** Problems the schema cannot see: a certificate without its key, or the other way round. */
export function tlsClientProblems(tls: TlsClientConfig, path: string): ConfigProblem[] {
  return (tls.cert_file === undefined) !== (tls.key_file === undefined)
    ? [{ path, message: 'give cert_file and key_file together (a client certificate)' }]
    : [];
}

/** Agent options from a `tls` section, with the files read; errors name the component and the key, never the content. */
export async function tlsAgentOptions(tls: TlsClientConfig, component: string): Promise<AgentOptions> {
  const options: AgentOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  const read = async (path: string, key: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new Error(
        `${component} tls.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  };
  if (tls.ca_file !== undefined) options.ca = await read(tls.ca_file, 'ca_file');
  if (tls.cert_file !== undefined) options.cert = await read(tls.cert_file, 'cert_file');
  if (tls.key_file !== undefined) options.key = await read(tls.key_file, 'key_file');
  return options;
}
