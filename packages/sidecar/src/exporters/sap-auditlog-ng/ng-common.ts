import type { NgEvent, NgRecord } from '@otel-audit/semconv';

/** What one of our records contributes to each of its NG events, besides the event's own fields. */
export interface NgRecordInput {
  readonly ng: NgRecord;
  /** The NG tenant id (the record's zone id, or the configured provider tenant for `$PROVIDER`). */
  readonly tenantId: string;
  /** Event time, epoch milliseconds. */
  readonly timeMs: number;
  /** When the sidecar accepted the record, epoch milliseconds (the log record's observed time). */
  readonly receivedAt: number;
}

/** The fields the exporter's config and binding give every event. */
export interface NgSender {
  readonly region: string;
  readonly namespace: string;
  readonly deploymentId: string;
  readonly serviceName: string;
  readonly appId: string | undefined;
  readonly schemaUrl: string;
  /** `metadata.infrastructure` of the JSON envelopes. */
  readonly infrastructure: Readonly<Record<string, unknown>>;
}

/** `common.app_context` / `metadata.appContext`, or undefined when empty. */
export function appContextOf(e: NgEvent): Readonly<Record<string, string>> | undefined {
  for (const _ in e.appContext) return e.appContext;
  return undefined;
}
