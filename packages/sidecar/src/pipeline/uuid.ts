import { createHash } from 'node:crypto';
import { anyValueToJson, keyValuesToJson } from '@otel-audit/semconv';
import type { LogRecord } from '../model/otlp-logs.js';

/** Namespace of otel-audit's derived record ids (a fixed, random UUID). */
const NAMESPACE = Buffer.from('5f0c8d6e3b2a4c1f9e7d6b5a4c3d2e1f', 'hex');

/**
 * A name-based (v5) UUID from the record's content, for records sent without `log.record.uid`.
 * The same record sent again (a client retry) gets the same id, so duplicates stay recognisable.
 * Resource attributes are left out: they can change across client restarts (process ids).
 */
export function deriveRecordUuid(eventName: string, record: LogRecord): string {
  const content = JSON.stringify([
    eventName,
    record.timeUnixNano.toString(),
    record.observedTimeUnixNano.toString(),
    record.severityNumber,
    anyValueToJson(record.body),
    keyValuesToJson(record.attributes),
  ]);
  const hash = createHash('sha1').update(NAMESPACE).update(content).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
