import type { SchemaObject } from 'ajv';
import { DURATION_SCHEMA, ENDPOINT_SCHEMA } from '../../config/schema.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../../model/limits.js';

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
  /** A connection must complete its TLS handshake and send a request's headers within this (duration). */
  handshake_timeout: string;
}

export interface OtlpGrpcConfig extends ProtocolConfig {
  /** A connection with no call for this long is closed (duration). */
  idle_timeout: string;
  /** A connection must complete the HTTP/2 preface and answer a ping within this (duration). */
  handshake_timeout: string;
}

/** The `limits` section (snake_case, as in the file); see {@link RequestLimits}. */
export interface ReceiverLimits {
  max_records_per_request: number;
  max_attributes_per_record: number;
  max_attribute_value_length: number;
  max_nesting_depth: number;
  max_decompression_ratio: number;
}

export function requestLimitsOf(limits: ReceiverLimits): RequestLimits {
  return {
    maxRecordsPerRequest: limits.max_records_per_request,
    maxAttributesPerRecord: limits.max_attributes_per_record,
    maxAttributeValueLength: limits.max_attribute_value_length,
    maxNestingDepth: limits.max_nesting_depth,
    maxDecompressionRatio: limits.max_decompression_ratio,
  };
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
          handshake_timeout: { ...DURATION_SCHEMA, default: '30s' },
        }),
        grpc: protocolSchema(DEFAULT_GRPC_ENDPOINT, {
          idle_timeout: { ...DURATION_SCHEMA, default: '65s' },
          handshake_timeout: { ...DURATION_SCHEMA, default: '30s' },
        }),
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_records_per_request: {
          type: 'integer',
          minimum: 1,
          default: DEFAULT_REQUEST_LIMITS.maxRecordsPerRequest,
        },
        max_attributes_per_record: {
          type: 'integer',
          minimum: 8,
          default: DEFAULT_REQUEST_LIMITS.maxAttributesPerRecord,
        },
        max_attribute_value_length: {
          type: 'integer',
          minimum: 64,
          default: DEFAULT_REQUEST_LIMITS.maxAttributeValueLength,
        },
        max_nesting_depth: {
          type: 'integer',
          minimum: 1,
          maximum: 64,
          default: DEFAULT_REQUEST_LIMITS.maxNestingDepth,
        },
        max_decompression_ratio: { type: 'number', minimum: 2, default: DEFAULT_REQUEST_LIMITS.maxDecompressionRatio },
      },
    },
  },
};
