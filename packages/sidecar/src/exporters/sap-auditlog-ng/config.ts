import type { SchemaObject } from 'ajv';
import { DURATION_SCHEMA } from '../../config/schema.js';
import { SIZE_SCHEMA } from '../../config/size.js';
import { deliverySchema, type DeliveryConfig } from '../../delivery/config.js';
import { tlsClientSchema, type TlsClientConfig } from '../../http/tls-client.js';
import { ngBindingSchemaProperties, type NgBindingConfig } from '../../sap/ng-credentials.js';

/** The two wire formats of the SAP Audit Log Service NG. */
export type NgFormat = 'otlp' | 'json';

export interface SapAuditLogNgConfig extends DeliveryConfig, NgBindingConfig {
  /** `otlp`: OTLP/HTTP protobuf log records with v2 catalog bodies; `json`: the `/ingestion/v1/events` envelopes. */
  format: NgFormat;
  /** The OTLP endpoint's base URL when it is not the binding's `url` (format `otlp`). */
  endpoint?: string;
  /** Path of the OTLP logs API under the endpoint (format `otlp`). */
  logs_path: string;
  /** The tenant id for records whose `audit.tenant` is `$PROVIDER` (NG takes tenant ids, not placeholders). */
  tenant_id?: string;
  /** `common.app_id` / `metadata.appId` (default: `application_id` of `VCAP_APPLICATION`). */
  app_id?: string;
  /** The OTLP resource's `service.name`. */
  service_name: string;
  /** The OTLP resource's `sap.ucl.deployment_id` (default: the binding's `region`). */
  deployment_id?: string;
  /** The log records' scope schema URL (format `otlp`). */
  schema_url: string;
  /** Default: gzip for format otlp, none for json (whether NG's JSON ingestion takes gzip is not documented). */
  compression: 'gzip' | 'none';
  timeout: string;
  /** Requests in flight at once per export batch. */
  max_concurrency: number;
  /** A request is cut below this size (uncompressed); one record's events always go together. */
  max_request_size: string | number;
  reload_interval: string;
  /** CA certificates to trust for the ingestion endpoint (the client certificate comes with the binding). */
  tls: TlsClientConfig;
}

/** The schema URL SAP's Python client gives its log records (reference §5.4). */
export const DEFAULT_SCHEMA_URL =
  'https://github.tools.sap/wg-observability/telemetry-semantic-conventions/blob/audit_event_catalog_v2.1.2/payload-specifications/audit-logging/sap/auditlog/auditevent/v2/auditevent.proto';

export const sapAuditLogNgSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...ngBindingSchemaProperties(),
    format: { enum: ['otlp', 'json'], default: 'json' },
    endpoint: { type: 'string', pattern: '^https?://' },
    logs_path: { type: 'string', pattern: '^/', default: '/v1/logs' },
    tenant_id: { type: 'string', pattern: '^[a-zA-Z0-9._/~-]+$' },
    app_id: { type: 'string', minLength: 1 },
    service_name: { type: 'string', minLength: 1, default: 'otel-audit' },
    deployment_id: { type: 'string', pattern: '^[a-zA-Z0-9._/~-]+$' },
    schema_url: { type: 'string', minLength: 1, default: DEFAULT_SCHEMA_URL },
    compression: { enum: ['gzip', 'none'] },
    timeout: { ...DURATION_SCHEMA, default: '30s' },
    max_concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
    max_request_size: { ...SIZE_SCHEMA, default: '4MiB' },
    reload_interval: { ...DURATION_SCHEMA, default: '30s' },
    tls: tlsClientSchema({ clientCertificate: false }),
    ...deliverySchema({ numConsumers: 2, batchSize: 512 }),
  },
};
