import type { SchemaObject } from 'ajv';
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
    ...deliverySchema({ numConsumers: 1, batchSize: 1024 }),
  },
};
