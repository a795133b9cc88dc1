import type { SchemaObject } from 'ajv';
import { DURATION_SCHEMA } from '../../config/schema.js';
import { deliverySchema, type DeliveryConfig } from '../../delivery/config.js';
import { tlsClientSchema, type TlsClientConfig } from '../../http/tls-client.js';
import { bindingSchemaProperties, type BindingConfig } from '../../sap/binding-config.js';

export type { BindingSource, UaaConfig } from '../../sap/binding-config.js';

/** Which write API path to post to: `/audit-log/oauth2/v2`, `/audit-log/premium/v2` (SAP Converged Cloud) or `/audit-log/v2` (standard plan, basic auth). */
export type ApiPath = 'auto' | 'oauth2' | 'premium' | 'standard';

export interface SapAuditLogConfig extends DeliveryConfig, BindingConfig {
  api_path: ApiPath;
  /** Per-request timeout. */
  timeout: string;
  /** POSTs in flight at once (SAP takes one message per request). */
  max_concurrency: number;
  /** Messages larger than this are dead-lettered without sending (SAP answers 413 over 10 KB). */
  max_message_bytes: number;
  /** How often a mounted binding is checked for rotated credentials. */
  reload_interval: string;
  /** CA certificates to trust for the API and the token endpoints (the x509 client certificate comes with the binding). */
  tls: TlsClientConfig;
}

export const sapAuditLogSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...bindingSchemaProperties(),
    user: { type: 'string', minLength: 1 },
    password: { type: 'string', minLength: 1 },
    api_path: { enum: ['auto', 'oauth2', 'premium', 'standard'], default: 'auto' },
    timeout: { ...DURATION_SCHEMA, default: '10s' },
    max_concurrency: { type: 'integer', minimum: 1, maximum: 256, default: 16 },
    max_message_bytes: { type: 'integer', minimum: 1024, default: 10240 },
    reload_interval: { ...DURATION_SCHEMA, default: '30s' },
    tls: tlsClientSchema({ clientCertificate: false }),
    ...deliverySchema({ numConsumers: 2, batchSize: 256 }),
  },
};
