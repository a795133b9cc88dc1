import type { SchemaObject } from 'ajv';
import type { ConfigProblem } from '../../config/problems.js';
import { DURATION_SCHEMA } from '../../config/schema.js';
import { tlsClientSchema, type TlsClientConfig } from '../../http/tls-client.js';
import { bindingSchemaProperties, type BindingConfig } from '../../sap/binding-config.js';
import { parseDuration } from '../../util/units.js';

/** The categories the Retrieval API can filter on (reference §3.1). */
export const CATEGORIES = [
  'audit.security-events',
  'audit.configuration',
  'audit.data-access',
  'audit.data-modification',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface RetrievalConfig extends BindingConfig {
  /** Names the source system (subaccount): Splunk `source`, and `resource` of every record. */
  system_id: string;
  /** How often to look for records once caught up. */
  poll_interval: string;
  /** SAP makes records visible late: windows end at now − ingest_delay. */
  ingest_delay: string;
  /** Each window starts this long before the checkpoint; records seen twice are dropped by uuid. */
  overlap: string;
  /** First run: a duration before now (`24h`, `7d`) or an RFC 3339 time. */
  start_at: string;
  /** At most this much time past the checkpoint per window (catching up after a first start or an outage). */
  max_window: string;
  /** Only these categories (empty: all); dropped if SAP answers 501 filter_category_not_supported. */
  categories: Category[];
  /** Requests to the Retrieval API per second (SAP allows 4 or 8 by region). */
  max_requests_per_second: number;
  /** Per-request timeout. */
  timeout: string;
  /** How often a mounted binding is checked for rotated credentials. */
  reload_interval: string;
  /** CA certificates to trust for the API and the token endpoint (an x509 client certificate comes with the binding). */
  tls: TlsClientConfig;
}

const START_AT_DURATION = /^([0-9]+(?:\.[0-9]+)?)(s|m|h|d)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export const retrievalSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['system_id'],
  properties: {
    ...bindingSchemaProperties(),
    system_id: { type: 'string', minLength: 1, maxLength: 256 },
    poll_interval: { ...DURATION_SCHEMA, default: '60s' },
    ingest_delay: { ...DURATION_SCHEMA, default: '20m' },
    overlap: { ...DURATION_SCHEMA, default: '5m' },
    start_at: { type: 'string', minLength: 1, default: '24h' },
    max_window: { ...DURATION_SCHEMA, default: '1h' },
    categories: { type: 'array', items: { enum: [...CATEGORIES] }, uniqueItems: true, default: [] },
    max_requests_per_second: { type: 'number', exclusiveMinimum: 0, maximum: 1000, default: 4 },
    timeout: { ...DURATION_SCHEMA, default: '60s' },
    reload_interval: { ...DURATION_SCHEMA, default: '30s' },
    tls: tlsClientSchema({ clientCertificate: false }),
  },
};

/** Where the first window starts: `start_at` before `now`, or the time it names; undefined when it is neither. */
export function startTime(startAt: string, now: number): number | undefined {
  const d = START_AT_DURATION.exec(startAt);
  if (d !== null) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd'];
    return now - Math.round(Number(d[1]) * unit);
  }
  if (!RFC3339.test(startAt)) return undefined;
  const t = Date.parse(startAt);
  return Number.isNaN(t) ? undefined : t;
}

/** Checks beyond the schema (`path` is the receiver's key path). */
export function checkRetrievalConfig(config: RetrievalConfig, path: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.binding === 'config' && config.url === undefined) {
    problems.push({ path, message: 'binding: config needs url and uaa' });
  }
  if (config.url !== undefined && config.uaa === undefined) {
    problems.push({ path: `${path}.uaa`, message: 'give uaa (the auditlog-management service key) with url' });
  }
  if (startTime(config.start_at, Date.now()) === undefined) {
    problems.push({
      path: `${path}.start_at`,
      message: 'must be a duration before now (e.g. 24h, 7d) or an RFC 3339 time (e.g. 2026-11-01T00:00:00Z)',
    });
  }
  // The API takes times in whole seconds: less overlap could skip the records of the boundary second.
  if (parseDuration(config.overlap) < 1000) {
    problems.push({ path: `${path}.overlap`, message: 'must be at least 1s (the API counts in whole seconds)' });
  }
  if (parseDuration(config.max_window) < 1000) {
    problems.push({ path: `${path}.max_window`, message: 'must be at least 1s' });
  }
  if (parseDuration(config.poll_interval) < 10) {
    problems.push({ path: `${path}.poll_interval`, message: 'must be at least 10ms' });
  }
  return problems;
}
