import type { SchemaObject } from 'ajv';
import type { ConfigProblem } from '../../config/problems.js';
import { DURATION_SCHEMA } from '../../config/schema.js';
import { SIZE_SCHEMA } from '../../config/size.js';
import { deliverySchema, type DeliveryConfig } from '../../delivery/config.js';
import { tlsClientProblems, tlsClientSchema, type TlsClientConfig } from '../../http/tls-client.js';
import { fieldProblem } from './events.js';
import { parseSize } from '../../util/units.js';

export interface SplunkHecConfig extends DeliveryConfig {
  /** HEC base URL, e.g. `https://splunk.example:8088`; `/services/collector/event` is appended. */
  endpoint: string;
  /** The HEC token (a secret: `${env:SPLUNK_HEC_TOKEN}`); or `token_file`. */
  token?: string;
  /** A file holding the HEC token (e.g. a mounted Secret), re-read when it changes. */
  token_file?: string;
  /** How often `token_file` is checked for a new token. */
  reload_interval: string;
  /** Metadata for every event unless the record carries its own (`com.splunk.*`, `host.name`). */
  source?: string;
  sourcetype?: string;
  index?: string;
  host?: string;
  /** Values of the local record sent as indexed fields (`fields`), by name. */
  fields: string[];
  disable_compression: boolean;
  /** gzip level, 1 (fastest) to 9 (smallest). */
  compression_level: number;
  /** Largest request body before compression; larger batches are split, a larger single event is dead-lettered. */
  max_content_length: string | number;
  /** Per-request timeout. */
  timeout: string;
  /** HEC requests in flight at once. */
  max_concurrency: number;
  /** Query `/services/collector/health` at start and log the result. */
  health_check_enabled: boolean;
  /** Indexer acknowledgement: records count as delivered only once HEC acknowledges them. */
  ack: boolean;
  /** Resend a request whose events were not acknowledged within this time. */
  ack_timeout: string;
  /** How often pending acknowledgements are queried. */
  ack_poll_interval: string;
  /** CA certificates to trust, and a client certificate for HEC behind mutual TLS. */
  tls: TlsClientConfig;
}

/** Splunk's HEC limit (`limits.conf [http_input] max_content_length`) cannot be larger than this (~800 MB). */
export const MAX_CONTENT_LENGTH_LIMIT = 838_860_800;
const MIN_CONTENT_LENGTH = 1024;

const metadata: SchemaObject = { type: 'string', minLength: 1 };

export const splunkHecSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoint'],
  properties: {
    endpoint: { type: 'string', pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*)?$' },
    token: { type: 'string', minLength: 1 },
    token_file: { type: 'string', minLength: 1 },
    reload_interval: { ...DURATION_SCHEMA, default: '30s' },
    source: metadata,
    sourcetype: metadata,
    index: metadata,
    host: metadata,
    fields: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [] },
    disable_compression: { type: 'boolean', default: false },
    compression_level: { type: 'integer', minimum: 1, maximum: 9, default: 1 },
    max_content_length: { ...SIZE_SCHEMA, default: '1MiB' },
    timeout: { ...DURATION_SCHEMA, default: '10s' },
    max_concurrency: { type: 'integer', minimum: 1, maximum: 256, default: 16 },
    health_check_enabled: { type: 'boolean', default: true },
    ack: { type: 'boolean', default: false },
    ack_timeout: { ...DURATION_SCHEMA, default: '60s' },
    ack_poll_interval: { ...DURATION_SCHEMA, default: '1s' },
    tls: tlsClientSchema({ clientCertificate: true }),
    ...deliverySchema({ numConsumers: 16, batchSize: 4096 }),
  },
};

/** Checks beyond the schema (`path` is the exporter's key path). */
export function checkSplunkHecConfig(config: SplunkHecConfig, path: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if ((config.token === undefined) === (config.token_file === undefined)) {
    problems.push({
      path: `${path}.token`,
      message:
        config.token === undefined
          ? 'missing: give the HEC token as token (e.g. ${env:SPLUNK_HEC_TOKEN}) or token_file'
          : 'give token or token_file, not both',
    });
  }
  const size = parseSize(config.max_content_length);
  if (!(size >= MIN_CONTENT_LENGTH && size <= MAX_CONTENT_LENGTH_LIMIT)) {
    problems.push({
      path: `${path}.max_content_length`,
      message: `must be between 1KiB and ${MAX_CONTENT_LENGTH_LIMIT} bytes (HEC's own limit)`,
    });
  }
  problems.push(...tlsClientProblems(config.tls, `${path}.tls`));
  config.fields.forEach((name, i) => {
    const problem = fieldProblem(name);
    if (problem !== undefined) problems.push({ path: `${path}.fields[${i}]`, message: problem });
  });
  return problems;
}
