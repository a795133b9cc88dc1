import type { SchemaObject } from 'ajv';
import { ENDPOINT_SCHEMA } from '../../config/schema.js';

export interface OtlpHttpConfig {
  /** `host:port`; loopback by default so nothing outside the pod can reach it. */
  endpoint: string;
  logs_url_path: string;
  /** Largest request body accepted, in bytes, measured before and after decompression. */
  max_request_body_size: number;
}

export interface OtlpReceiverConfig {
  protocols: {
    http?: OtlpHttpConfig;
  };
}

export const DEFAULT_HTTP_ENDPOINT = '127.0.0.1:4318';

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
        http: {
          type: 'object',
          additionalProperties: false,
          properties: {
            endpoint: { ...ENDPOINT_SCHEMA, default: DEFAULT_HTTP_ENDPOINT },
            logs_url_path: { type: 'string', pattern: '^/', default: '/v1/logs' },
            max_request_body_size: { type: 'integer', minimum: 1024, default: 20 * 1024 * 1024 },
          },
        },
      },
    },
  },
};
