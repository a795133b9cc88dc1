import type { SchemaObject } from 'ajv';
import type { ConfigProblem } from './config/problems.js';
import type { DeadLetterStore } from './deadletter/dead-letter-store.js';
import type { LogsRequest } from './otlp/model.js';
import type { PipelineResult, RecordLimits } from './pipeline/pipeline.js';
import type { SpooledRecord } from './spool/spooled-record.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/** What every component gets from the service. */
export interface ComponentContext {
  /** `type` or `type/name` as written in the config. */
  readonly id: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The storage extension's directory (spool, dead letters, component state). */
  readonly storageDirectory: string;
  readonly deadLetters: DeadLetterStore;
}

/** Receivers hand decoded requests to the pipeline (with their per-record limits) and answer with what it returns. */
export interface LogsConsumer {
  consume(request: LogsRequest, limits?: RecordLimits): Promise<PipelineResult>;
}

export interface Receiver {
  start(): Promise<void>;
  /** Stops accepting requests and waits for the ones in flight. */
  shutdown(): Promise<void>;
  /** Listening addresses by protocol, once started (e.g. `{ http: '127.0.0.1:4318' }`). */
  addresses(): Record<string, string>;
}

/** How an export of a batch went: records not named here were delivered. */
export interface ExportOutcome {
  /** Records the destination refused for good (by index in the batch): they go to the dead-letter store. */
  readonly rejected?: readonly { readonly index: number; readonly reason: string }[];
  /** Records to try again later (by index), e.g. after a 503 for some of SAP's one-message requests. */
  readonly retry?: { readonly indexes: readonly number[]; readonly reason: string; readonly retryAfterMs?: number };
}

/** Thrown by an exporter when nothing in the batch was delivered and all of it should be retried. */
export class RetryableExportError extends Error {
  override readonly name = 'RetryableExportError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface Exporter {
  readonly id: string;
  start(): Promise<void>;
  /**
   * Delivers a batch; resolves with what was refused or must be retried, throws RetryableExportError
   * to retry all. `signal` aborts at the shutdown deadline: stop waiting (the records stay in the spool).
   */
  export(records: readonly SpooledRecord[], signal?: AbortSignal): Promise<ExportOutcome>;
  shutdown(): Promise<void>;
}

interface FactoryBase<C> {
  readonly type: string;
  /** JSON schema of the component's config; defaults in it are applied. */
  readonly schema: SchemaObject;
  /** Rewrites the raw config before schema validation (e.g. `http:` with no value → `{}`). */
  normalize?(raw: unknown): unknown;
  /** Checks beyond the schema; `path` is the key path of the component's config. */
  validate?(config: C, path: string): ConfigProblem[];
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  create(config: C, ctx: ComponentContext, consumer: LogsConsumer): Receiver;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  create(config: C, ctx: ComponentContext): Exporter;
}

/** Thrown by the pipeline when it cannot take records now (spool full): the receiver answers 429 / RESOURCE_EXHAUSTED. */
export class BackpressureError extends Error {
  override readonly name = 'BackpressureError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}
