import {
  AUDIT_EVENT_PREFIX,
  ATTR_EVENT_NAME,
  formatIssues,
  formatSapTime,
  keyValuesToJson,
  MALFORMED_TEXT,
  mapAuditRecord,
  SplunkAttr,
  KeyValueList,
  type AnyValue,
  type AuditEventName,
  type KeyValue,
  type ValidationIssue,
} from '@otel-audit/semconv';
import type { AuditRecord, SplunkMetadata } from '../model/audit-record.js';
import type { ConsumeResult, RejectedRecord } from '../model/consume.js';
import { RECEIVER_DEAD_LETTER_ID, type DeadLetter, type DeadLetterWriter } from '../model/dead-letter.js';
import { DEFAULT_RECORD_LIMITS, type RecordLimits } from '../model/limits.js';
import type { InstrumentationScope, LogRecord, LogsRequest, Resource } from '../model/otlp-logs.js';
import { logRecordToOtlpJson, resourceToOtlpJson, scopeToOtlpJson } from '../otlp/to-json.js';
import { deriveRecordUuid } from './uuid.js';

/** Where accepted records go; `write` resolves once they are durable. */
export interface RecordSink {
  write(records: readonly AuditRecord[]): Promise<void>;
}

/**
 * decode → **validate/map** → sink. Maps each audit record to its SAP message; rejected records go
 * to the dead-letter store and are reported back; both writes are durable before it resolves.
 */
export class AuditPipeline {
  constructor(
    private readonly sink: RecordSink,
    private readonly deadLetters: DeadLetterWriter,
  ) {}

  async process(
    request: LogsRequest,
    limits: RecordLimits = DEFAULT_RECORD_LIMITS,
    receivedAtMs: number = Date.now(),
  ): Promise<ConsumeResult> {
    const accepted: AuditRecord[] = [];
    const out = new RecordOutcomes((record) => accepted.push(record));
    const receiveTime = formatSapTime(receivedAtMs);

    for (const rl of request.resourceLogs) {
      const resource = new ResourceContext(rl.resource);
      for (const sl of rl.scopeLogs) {
        for (const record of sl.logRecords) {
          mapRecord(out, out.received++, record, resource, sl.scope, limits, receivedAtMs, receiveTime);
        }
      }
    }

    // Accepted records first: if they cannot be stored (storage full), the client retries the
    // whole request, and writing its dead letters only after that keeps them from being repeated.
    // Only counts are used after the writes, so the records themselves can be collected meanwhile.
    const acceptedCount = accepted.length;
    if (acceptedCount > 0) await this.sink.write(accepted.splice(0));
    await this.deadLetters.write(RECEIVER_DEAD_LETTER_ID, out.letters);
    return { received: out.received, accepted: acceptedCount, ignored: out.ignored, rejected: out.rejected };
  }
}

/** What became of the records of one request so far: accepted ones go to `accept`, in order. */
export class RecordOutcomes {
  received = 0;
  ignored = 0;
  readonly rejected: RejectedRecord[] = [];
  readonly letters: DeadLetter[] = [];

  constructor(readonly accept: (record: AuditRecord) => void) {}

  reject(
    index: number,
    eventName: string,
    uuid: string | undefined,
    issues: readonly ValidationIssue[],
    record: LogRecord,
    resource: Resource | undefined,
    scope: InstrumentationScope | undefined,
  ): void {
    this.rejected.push({ index, uuid, issues });
    this.letters.push(receiverDeadLetter(eventName, uuid, issues, record, resource, scope));
  }
}

/** What the records of one resource share, each computed once, when first needed. */
export class ResourceContext {
  private json: string | undefined;
  private splunk: SplunkMetadata | undefined;

  constructor(readonly resource: Resource | undefined) {}

  /** The resource attributes as a JSON object text (shared by every record of the resource). */
  resourceJson(): string {
    return (this.json ??= JSON.stringify(keyValuesToJson(this.resource?.attributes ?? [])));
  }

  /** Splunk metadata from the resource attributes (records may override it). */
  splunkMetadata(): SplunkMetadata {
    return (this.splunk ??= splunkMetadata(this.resource?.attributes ?? [], {}));
  }
}

/**
 * One record: ignored (not an audit event), rejected (over a limit, invalid, unstorable metadata)
 * or accepted (mapped to its SAP message). The one implementation of what happens to a record;
 * the protobuf fast path (proto-pipeline.ts) falls back to it for every record it does not take itself.
 */
export function mapRecord(
  out: RecordOutcomes,
  index: number,
  record: LogRecord,
  resource: ResourceContext,
  scope: InstrumentationScope | undefined,
  limits: RecordLimits,
  receivedAtMs: number,
  receiveTime: string,
): void {
  const eventName = eventNameOf(record);
  if (eventName === undefined) {
    out.ignored++;
    return;
  }
  const overLimit = limitIssues(record, limits);
  if (overLimit !== undefined) {
    out.reject(index, eventName, undefined, overLimit, record, resource.resource, scope);
    return;
  }
  const time = recordTime(record, receivedAtMs, receiveTime);
  const result = mapAuditRecord({
    eventName,
    body: record.body,
    time: time.iso,
    attributes: record.attributes,
    deriveUuid: () => deriveRecordUuid(eventName, record),
  });
  if (!result.ok) {
    out.reject(index, eventName, result.uuid, result.issues, record, resource.resource, scope);
    return;
  }
  const splunk = splunkMetadata(record.attributes, resource.splunkMetadata());
  const tooLong = metadataTooLong(splunk);
  if (tooLong !== undefined) {
    out.reject(index, eventName, result.uuid, [tooLong], record, resource.resource, scope);
    return;
  }
  out.accept({
    uuid: result.uuid,
    eventName: eventName as AuditEventName,
    category: result.type.sapCategory,
    sapEndpoint: result.type.sapEndpoint,
    time: result.message.time,
    timeMs: time.ms,
    success: result.success,
    message: result.message,
    resourceJson: resource.resourceJson(),
    tenantSubdomain: result.tenantSubdomain,
    splunk,
  });
}

/** The audit event name of a record, or undefined when it is not an audit event. */
function eventNameOf(record: LogRecord): string | undefined {
  let name = record.eventName;
  if (name === '') {
    for (const kv of record.attributes) {
      if (kv.key === ATTR_EVENT_NAME && typeof kv.value === 'string') {
        name = kv.value;
        break;
      }
    }
  }
  return name.startsWith(AUDIT_EVENT_PREFIX) ? name : undefined;
}

/** Problems with a record's size or its bytes, or undefined when it is within the limits. */
function limitIssues(record: LogRecord, limits: RecordLimits): ValidationIssue[] | undefined {
  if (record.malformedField !== undefined) return [{ field: record.malformedField, message: MALFORMED_TEXT }];
  const attributes = record.attributes;
  if (attributes.length > limits.maxAttributes) {
    return [
      { field: 'attributes', message: `${attributes.length} attributes; at most ${limits.maxAttributes} are accepted` },
    ];
  }
  let issues: ValidationIssue[] | undefined;
  const check = (field: string, v: AnyValue) => {
    const longest = longestString(v);
    if (longest > limits.maxValueLength) {
      (issues ??= []).push({
        field,
        message: `a value of ${longest} characters; at most ${limits.maxValueLength} are accepted`,
      });
    }
  };
  check('body', record.body);
  for (const kv of attributes) check(kv.key, kv.value);
  return issues;
}

function longestString(v: AnyValue): number {
  if (typeof v === 'string') return v.length;
  if (v instanceof KeyValueList)
    return v.values.reduce((m, kv) => Math.max(m, kv.key.length, longestString(kv.value)), 0);
  if (Array.isArray(v)) return (v as readonly AnyValue[]).reduce((m: number, x) => Math.max(m, longestString(x)), 0);
  if (v instanceof Uint8Array) return v.length;
  return 0;
}

/** The event time: time_unix_nano, else observed_time_unix_nano, else the receive time. */
function recordTime(record: LogRecord, receivedAtMs: number, receiveTime: string): { ms: number; iso: string } {
  const ns = record.timeUnixNano !== 0n ? record.timeUnixNano : record.observedTimeUnixNano;
  if (ns === 0n) return { ms: receivedAtMs, iso: receiveTime };
  const ms = Number(ns / 1_000_000n);
  return { ms, iso: formatSapTime(ms) };
}

/** Splunk metadata is stored with each spooled record (u16 lengths) and belongs in HEC's short fields. */
const MAX_METADATA_BYTES = 1024;
const METADATA_ATTRIBUTES: Readonly<Record<keyof SplunkMetadata, string>> = {
  host: SplunkAttr.Host,
  index: SplunkAttr.Index,
  source: SplunkAttr.Source,
  sourcetype: SplunkAttr.Sourcetype,
};

export function metadataTooLong(meta: SplunkMetadata): ValidationIssue | undefined {
  for (const field of ['host', 'index', 'source', 'sourcetype'] as const) {
    const v = meta[field];
    // A UTF-16 unit is at most 3 UTF-8 bytes: most values need no byte count.
    if (v === undefined || v.length * 3 <= MAX_METADATA_BYTES || Buffer.byteLength(v) <= MAX_METADATA_BYTES) continue;
    return { field: METADATA_ATTRIBUTES[field], message: `is longer than ${MAX_METADATA_BYTES} bytes` };
  }
  return undefined;
}

function splunkMetadata(attributes: readonly KeyValue[], base: SplunkMetadata): SplunkMetadata {
  let out = base;
  for (const { key, value } of attributes) {
    if (typeof value !== 'string') continue;
    let field: keyof SplunkMetadata | undefined;
    if (key === SplunkAttr.Host) field = 'host';
    else if (key === SplunkAttr.Index) field = 'index';
    else if (key === SplunkAttr.Source) field = 'source';
    else if (key === SplunkAttr.Sourcetype) field = 'sourcetype';
    if (field === undefined) continue;
    if (out === base) out = { ...base };
    out[field] = value;
  }
  return out;
}

function receiverDeadLetter(
  eventName: string,
  uuid: string | undefined,
  issues: readonly ValidationIssue[],
  record: LogRecord,
  resource: Resource | undefined,
  scope: InstrumentationScope | undefined,
): DeadLetter {
  return {
    time: new Date().toISOString(),
    exporter: RECEIVER_DEAD_LETTER_ID,
    reason: formatIssues(issues),
    uuid,
    event_name: eventName,
    otlp: {
      resource: resourceToOtlpJson(resource),
      scope: scopeToOtlpJson(scope),
      logRecord: logRecordToOtlpJson(record),
    },
  };
}
