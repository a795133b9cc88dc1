import type { SchemaObject } from 'ajv';
import { DURATION_SCHEMA } from '../config/schema.js';
import { parseDuration } from '../util/units.js';

/** Delivery settings every exporter has (Collector names; there is no max_elapsed_time: audit records never expire). */
export interface DeliveryConfig {
  sending_queue: {
    /** Batches in flight at once. */
    num_consumers: number;
    /** Records per export call. */
    batch_size: number;
  };
  retry_on_failure: {
    initial_interval: string;
    max_interval: string;
    multiplier: number;
    randomization_factor: number;
  };
}

export interface RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly randomization: number;
}

export function retryPolicy(c: DeliveryConfig['retry_on_failure']): RetryPolicy {
  return {
    initialMs: parseDuration(c.initial_interval),
    maxMs: parseDuration(c.max_interval),
    multiplier: c.multiplier,
    randomization: c.randomization_factor,
  };
}

/** Backoff before retry number `attempt` (0-based): exponential, capped, with jitter. */
export function backoffMs(p: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(p.maxMs, p.initialMs * p.multiplier ** attempt);
  const jitter = base * p.randomization * (2 * random() - 1);
  return Math.max(0, Math.round(base + jitter));
}

/** Schema properties to merge into an exporter's config schema, with that exporter's defaults. */
export function deliverySchema(defaults: { numConsumers: number; batchSize: number }): Record<string, SchemaObject> {
  return {
    sending_queue: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        num_consumers: { type: 'integer', minimum: 1, maximum: 64, default: defaults.numConsumers },
        batch_size: { type: 'integer', minimum: 1, maximum: 100_000, default: defaults.batchSize },
      },
    },
    retry_on_failure: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initial_interval: { ...DURATION_SCHEMA, default: '1s' },
        max_interval: { ...DURATION_SCHEMA, default: '30s' },
        multiplier: { type: 'number', minimum: 1, default: 1.5 },
        randomization_factor: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
      },
    },
  };
}
