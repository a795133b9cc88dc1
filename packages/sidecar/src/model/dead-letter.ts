import { auditEventType } from '@otel-audit/semconv';
import type { SplunkMetadata } from './audit-record.js';
import { RETRIEVED_EVENT_NAME, type SpooledRecord, type SpoolEventName, type SpoolInput } from './spooled-record.js';

/** Component id of the receiver side (records rejected by validation). */
export const RECEIVER_DEAD_LETTER_ID = 'receiver';

/** One dead letter: the original record, who rejected it, why and when (one line of a dead-letter file). */
export interface DeadLetter {
  readonly time: string;
  /** The exporter id, or `receiver` for records that failed validation. */
  readonly exporter: string;
  readonly reason: string;
  readonly uuid: string | undefined;
  readonly event_name: string;
  /** Receiver dead letters: the record as received, in OTLP/JSON. */
  readonly otlp?: { resource?: unknown; scope?: unknown; logRecord: unknown };
  /** Exporter dead letters: the record as the exporter got it (the local record and its routing data). */
  readonly record?: ExporterDeadLetterRecord;
}

export interface ExporterDeadLetterRecord {
  readonly event_time: number;
  readonly received_at: number;
  readonly tenant_subdomain?: string;
  readonly splunk?: SplunkMetadata;
  readonly local: unknown;
}

/** Where rejected records are written durably; `write` resolves once they are. */
export interface DeadLetterWriter {
  write(componentId: string, letters: readonly DeadLetter[]): Promise<void>;
}

/** The dead letter of a spooled record that `exporter` refused for good. */
export function exporterDeadLetter(r: SpooledRecord, exporter: string, reason: string, time: string): DeadLetter {
  return {
    time,
    exporter,
    reason,
    uuid: r.uuid,
    event_name: r.eventName,
    record: {
      event_time: r.eventTime,
      received_at: r.receivedAt,
      ...(r.tenantSubdomain === undefined ? {} : { tenant_subdomain: r.tenantSubdomain }),
      ...(Object.keys(r.splunk).length === 0 ? {} : { splunk: r.splunk }),
      local: JSON.parse(r.json) as unknown,
    },
  };
}

/** An exporter dead letter back into spool form, addressed to that exporter only (the inverse of {@link exporterDeadLetter}). */
export function spoolInputOfDeadLetter(letter: DeadLetter, exporter: string): SpoolInput {
  const r = letter.record;
  if (r === undefined) throw new Error(`dead letter ${letter.uuid ?? '?'} of ${exporter} holds no record`);
  const eventName = letter.event_name as SpoolEventName;
  if (eventName !== RETRIEVED_EVENT_NAME && auditEventType(eventName) === undefined)
    throw new Error(`dead letter ${letter.uuid ?? '?'} has unknown event ${eventName}`);
  return {
    uuid: letter.uuid ?? '',
    eventName,
    eventTime: r.event_time,
    receivedAt: r.received_at,
    tenantSubdomain: r.tenant_subdomain,
    splunk: r.splunk ?? {},
    targets: [exporter],
    json: JSON.stringify(r.local),
  };
}
