import type { SchemaObject } from 'ajv';
import type { ConfigProblem } from './config/problems.js';
import type { PipelineConsumer } from './model/consume.js';
import type { RequestLimits } from './model/limits.js';
import type { MemoryBudget } from './model/memory-budget.js';
import type { SpooledRecord } from './model/spooled-record.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/*
 * The component API: what receivers and exporters implement and what they are given. It depends on
 * the data model (`model/`) and the service's telemetry only, never on the pipeline, the spool or the
 * stores, so components cannot reach into them.
 */

/** What every component gets from the service. */
export interface ComponentContext {
  /** `type` or `type/name` as written in the config. */
  readonly id: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * A directory of the component's own under the storage directory (`<storage>/state/<id>/`, the id
   * URL-encoded), for state that must survive restarts next to the spool (a receiver's checkpoint).
   * Not created until the component creates it.
   */
  readonly stateDirectory: string;
  /**
   * The memory all receivers together may hold for requests in flight (`service.intake_memory_budget`),
   * shared by every receiver of the process. Unset (tests): a receiver derives one of its own.
   */
  readonly intakeMemory?: MemoryBudget;
}

export interface Receiver {
  /**
   * Called before any exporter starts (nothing is delivered or deleted from the spool yet): a
   * receiver finishes here what a crash interrupted, e.g. finds out which records it had stored.
   */
  prepare?(): Promise<void>;
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

/**
 * Told which records (by index in the batch) the destination has confirmed, while `export` still
 * runs. An index reported here is delivered: it must not appear in the outcome's `rejected` or `retry`.
 */
export type DeliveredCallback = (indexes: readonly number[]) => void;

export interface Exporter {
  readonly id: string;
  start(): Promise<void>;
  /**
   * Delivers a batch; resolves with what was refused or must be retried. Throws RetryableExportError
   * to retry all of it, PermanentError to dead-letter all of it (both from `model/errors.ts`).
   * `signal` aborts at the shutdown deadline: stop waiting (the records stay in the spool).
   * An exporter that sends a batch in parts (SAP: one message per request; HEC: several requests)
   * reports each part as its destination confirms it through `delivered`, so that a crash before
   * the whole batch is done does not send the confirmed parts again after the restart.
   */
  export(
    records: readonly SpooledRecord[],
    signal?: AbortSignal,
    delivered?: DeliveredCallback,
  ): Promise<ExportOutcome>;
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
  /**
   * What kind of records the receiver produces, for the exporters that refuse some (`refuses`);
   * unset: audit records of ours.
   */
  readonly produces?: string;
  create(config: C, ctx: ComponentContext, consumer: PipelineConsumer): Receiver;
  /** The limits a receiver of OTLP requests applies (replay re-validates dead letters under the widest). */
  requestLimits?(config: C): RequestLimits;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  /**
   * Kinds of records (a receiver factory's `produces`) the exporter must not get, with the reason:
   * `validate` refuses a pipeline that would send them to it.
   */
  readonly refuses?: Readonly<Record<string, string>>;
  create(config: C, ctx: ComponentContext): Exporter;
}
