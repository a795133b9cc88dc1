import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { ExporterSettings } from '../config.js';
import { AuditDeliveryError, AuditDeliveryUnconfirmedError } from '../errors.js';
import { GrpcTransport } from './grpc-transport.js';
import { HttpTransport } from './http-transport.js';
import { rejectionOutcomes } from './rejection-outcomes.js';
import type { OtlpTransport } from './transport.js';

interface Pending {
  readonly record: ReadableLogRecord;
  readonly uuid: string;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (err: AuditDeliveryError) => void;
}

export interface DeliveryOptions {
  /** How long `log()` may take in all, retries included, before it rejects. */
  readonly deadlineMillis: number;
  /** Largest number of records per request. */
  readonly maxBatchSize: number;
  /** Requests in flight at once. */
  readonly maxConcurrency: number;
}

const INITIAL_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 5_000;

/**
 * Sends records and reports, per record, whether the sidecar durably accepted it. Records logged
 * in the same tick share a request; retryable failures are retried with backoff until the deadline.
 */
export class AcknowledgedDelivery {
  private readonly transport: OtlpTransport;
  private readonly serialize: (records: ReadableLogRecord[]) => Uint8Array | undefined;
  private readonly deserialize: (body: Uint8Array) => {
    partialSuccess?: { rejectedLogRecords?: number; errorMessage?: string };
  };
  private pending: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly settings: ExporterSettings,
    private readonly options: DeliveryOptions,
  ) {
    this.transport = settings.protocol === 'grpc' ? new GrpcTransport(settings) : new HttpTransport(settings);
    const serializer = settings.protocol === 'http/json' ? JsonLogsSerializer : ProtobufLogsSerializer;
    this.serialize = (records) => serializer.serializeRequest(records);
    this.deserialize = (body) => serializer.deserializeResponse(body);
  }

  /** Resolves when the sidecar has durably accepted the record; rejects with {@link AuditDeliveryError}. */
  deliver(record: ReadableLogRecord, uuid: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ record, uuid, deadline: Date.now() + this.options.deadlineMillis, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when nothing is pending or in flight. */
  idle(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.transport.close();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxConcurrency && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatchSize);
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        if (this.pending.length > 0) this.pump();
        else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    let body: Uint8Array | undefined;
    try {
      body = this.serialize(batch.map((p) => p.record));
    } catch (err) {
      fail(
        batch,
        new AuditDeliveryError(`cannot serialize audit records: ${(err as Error).message}`, false, { cause: err }),
      );
      return;
    }
    if (body === undefined) {
      fail(batch, new AuditDeliveryError('cannot serialize audit records', false));
      return;
    }
    const deadline = Math.min(...batch.map((p) => p.deadline));
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      const result = await this.transport.send(body, Math.max(1, Math.min(this.settings.timeoutMillis, remaining)));
      if (result.kind === 'ok') {
        this.settle(batch, result.body);
        return;
      }
      if (result.kind === 'failed') {
        fail(batch, new AuditDeliveryError(`the sidecar refused the request: ${result.reason}`, false));
        return;
      }
      const backoff = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** attempt) * (0.8 + Math.random() * 0.4);
      const wait = Math.max(result.retryAfterMs ?? 0, backoff);
      if (Date.now() + wait >= deadline) {
        fail(
          batch,
          new AuditDeliveryError(
            `audit record not accepted within ${this.options.deadlineMillis} ms (${attempt + 1} attempts; last: ${result.reason})`,
            false,
          ),
        );
        return;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private settle(batch: Pending[], responseBody: Uint8Array): void {
    let partial: { rejectedLogRecords?: number; errorMessage?: string } | undefined;
    try {
      partial = this.deserialize(responseBody).partialSuccess;
    } catch {
      partial = undefined;
    }
    // The JSON deserializer hands int64 fields over as strings.
    const rejectedCount = Number((partial?.rejectedLogRecords as number | string | undefined) ?? 0);
    if (!partial || rejectedCount === 0) {
      for (const p of batch) p.resolve();
      return;
    }
    const message = partial.errorMessage ?? '';
    // Every record comes from the client's one logger (one resource, one scope), so the serializer
    // keeps the batch order and the receiver's record index i is batch[i].
    const outcomes = rejectionOutcomes(
      batch.map((p) => p.uuid),
      rejectedCount,
      message,
    );
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (outcome.kind === 'accepted') p.resolve();
      else if (outcome.kind === 'rejected') p.reject(rejectedError(p.uuid, outcome.reason));
      else p.reject(unconfirmedError(p.uuid, rejectedCount, batch.length, message));
    });
  }
}

function rejectedError(uuid: string, reason: string | undefined): AuditDeliveryError {
  return new AuditDeliveryError(
    reason === undefined
      ? `the sidecar rejected audit record ${uuid} without naming it in its response (see the sidecar's dead-letter store)`
      : `the sidecar rejected audit record ${uuid}: ${reason}`,
    true,
  );
}

/** Longest part of the receiver's message quoted in an error about a record it did not name. */
const MAX_QUOTED = 300;

function unconfirmedError(
  uuid: string,
  rejected: number,
  sent: number,
  message: string,
): AuditDeliveryUnconfirmedError {
  const quoted = message.length > MAX_QUOTED ? `${message.slice(0, MAX_QUOTED)}…` : message;
  return new AuditDeliveryUnconfirmedError(
    `the receiver rejected ${Number.isNaN(rejected) ? 'some' : rejected} of ${sent} records without naming them all; audit record ${uuid} is either ` +
      `durably accepted or among the rejected ones (see the sidecar's dead-letter store)${quoted === '' ? '' : `: ${quoted}`}`,
    uuid,
  );
}

function fail(batch: Pending[], err: AuditDeliveryError): void {
  for (const p of batch) p.reject(err);
}
