import type { SchemaObject } from 'ajv';
import { DURATION_SCHEMA, ENDPOINT_SCHEMA } from '../../config/schema.js';
import type { DecodeLimits } from '../../otlp/model.js';
import type { RecordLimits } from '../../pipeline/pipeline.js';

/** TLS for a receiver; with `client_ca_file`, clients must present a certificate it signed (mTLS). */
export interface ServerTlsConfig {
  cert_file: string;
  key_file: string;
  client_ca_file?: string;
  /** How often the files are checked for renewed certificates. */
  reload_interval: string;
}

/** Bearer-token authentication: `Authorization: Bearer <token>` (HTTP) or the `authorization` metadata (gRPC). */
export interface ServerAuthConfig {
  /** Accepted tokens (typically `${env:...}`). */
  bearer_tokens?: string[];
  /** A file with one accepted token per line, re-read when it changes. */
  bearer_tokens_file?: string;
  reload_interval: string;
}

interface ProtocolConfig {
  /** `host:port`; loopback by default so nothing outside the pod can reach it. */
  endpoint: string;
  /** Largest request accepted, in bytes, measured after decompression (and before it, for HTTP). */
  max_request_body_size: number;
  tls?: ServerTlsConfig;
  auth?: ServerAuthConfig;
  /** Allows a non-loopback endpoint without TLS or auth (a warning is logged at start). */
  insecure: boolean;
}

export interface OtlpHttpConfig extends ProtocolConfig {
  logs_url_path: string;
}

export type OtlpGrpcConfig = ProtocolConfig;

/** What one request or record may hold; beyond it the request (or the record) is refused with the reason. */
export interface ReceiverLimits {
  max_records_per_request: number;
  max_attributes_per_record: number;
  /** Longest string attribute value or body, in characters. */
  max_attribute_value_length: number;
  /** Deepest nesting of array/kvlist values. */
  max_nesting_depth: number;
  /** Largest decompressed/compressed size ratio of an HTTP body. */
  max_decompression_ratio: number;
}

/** What the decoders enforce while decoding a request. */
export function decodeLimitsOf(limits: ReceiverLimits): DecodeLimits {
  return {
    maxDepth: limits.max_nesting_depth,
    maxRecords: limits.max_records_per_request,
    maxAttributes: limits.max_attributes_per_record,
  };
}

/** What the pipeline checks on each record. */
export function recordLimitsOf(limits: ReceiverLimits): RecordLimits {
  return { maxAttributes: limits.max_attributes_per_record, maxValueLength: limits.max_attribute_value_length };
}

export interface OtlpReceiverConfig {
  protocols: {
    http?: OtlpHttpConfig;
    grpc?: OtlpGrpcConfig;
  };
  limits: ReceiverLimits;
}

export const DEFAULT_HTTP_ENDPOINT = '127.0.0.1:4318';
export const DEFAULT_GRPC_ENDPOINT = '127.0.0.1:4317';

/** At shutdown, how long requests in flight may take before their connections are closed. */
export const DRAIN_MS = 5000;

const tlsSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['cert_file', 'key_file'],
  properties: {
    cert_file: { type: 'string', minLength: 1 },
    key_file: { type: 'string', minLength: 1 },
    client_ca_file: { type: 'string', minLength: 1 },
    reload_interval: { ...DURATION_SCHEMA, default: '1m' },
  },
};

const authSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bearer_tokens: { type: 'array', items: { type: 'string', minLength: 16 } },
    bearer_tokens_file: { type: 'string', minLength: 1 },
    reload_interval: { ...DURATION_SCHEMA, default: '10s' },
  },
};

function protocolSchema(endpoint: string, extra: Record<string, SchemaObject> = {}): SchemaObject {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: { ...ENDPOINT_SCHEMA, default: endpoint },
      max_request_body_size: { type: 'integer', minimum: 1024, default: 20 * 1024 * 1024 },
      tls: tlsSchema,
      auth: authSchema,
      insecure: { type: 'boolean', default: false },
      ...extra,
    },
  };
}

export const otlpReceiverSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['protocols'],
  properties: {
    protocols: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        http: protocolSchema(DEFAULT_HTTP_ENDPOINT, {
          logs_url_path: { type: 'string', pattern: '^/', default: '/v1/logs' },
        }),
        grpc: protocolSchema(DEFAULT_GRPC_ENDPOINT),
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_records_per_request: { type: 'integer', minimum: 1, default: 10_000 },
        max_attributes_per_record: { type: 'integer', minimum: 8, default: 512 },
        max_attribute_value_length: { type: 'integer', minimum: 64, default: 65_536 },
        max_nesting_depth: { type: 'integer', minimum: 1, maximum: 64, default: 16 },
        max_decompression_ratio: { type: 'number', minimum: 2, default: 100 },
      },
    },
  },
};
