import type { SchemaObject } from 'ajv';
import { DURATION_SCHEMA } from '../../config/schema.js';
import { deliverySchema, type DeliveryConfig } from '../../delivery/config.js';

export interface FileExporterConfig extends DeliveryConfig {
  /** The active audit file; rotated files are written next to it. */
  path: string;
  /** fdatasync after each write before reporting the records delivered. */
  fsync: boolean;
  rotation: {
    /** Rotate when the file would grow past this size; 0 turns rotation off. */
    max_megabytes: number;
    /** Rotated files to keep; 0 keeps all. */
    max_backups: number;
    /** Delete rotated files older than this many days; 0 keeps them regardless of age. */
    max_days: number;
    /** Timestamps in rotated file names in local time instead of UTC. */
    localtime: boolean;
  };
  /** Uuids of the last records written that a record must not repeat to be written (0: no dedupe). */
  dedupe_window: number;
  /** Tamper evidence: the hash chain over the lines and the checkpoints of it. */
  chain: {
    enabled: boolean;
    /** A checkpoint at least this often while records arrive (and at each rotation and shutdown). */
    checkpoint_interval: string;
    /** Signer key (`otel-audit keygen`) that signs the checkpoints; without it they are unsigned. */
    signing_key_file?: string;
    /** The checkpoints' first line, naming the log; default `otel-audit/<exporter id>`. */
    origin?: string;
  };
}

export const fileExporterSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1 },
    fsync: { type: 'boolean', default: true },
    rotation: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_megabytes: { type: 'number', minimum: 0, default: 100 },
        max_backups: { type: 'integer', minimum: 0, default: 0 },
        max_days: { type: 'number', minimum: 0, default: 0 },
        localtime: { type: 'boolean', default: false },
      },
    },
    dedupe_window: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 100_000 },
    chain: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        checkpoint_interval: { ...DURATION_SCHEMA, default: '5m' },
        signing_key_file: { type: 'string', minLength: 1 },
        origin: { type: 'string', minLength: 1, pattern: '^[^\\n]+$' },
      },
    },
    ...deliverySchema({ numConsumers: 1, batchSize: 1024 }),
  },
};
