/**
 * Format `otlp`: an OTLP/HTTP `ExportLogsServiceRequest` whose log records carry serialized
 * `sap.auditlog.auditevent.v2` messages as bytes bodies, shaped as SAP's Python client sends them
 * (reference §5.4): resource `service.name`, `sap.ucl.deployment_id`, `sap.ucl.system_namespace`;
 * scope `auditlog` with the catalog's schema URL; severity INFO; `event_name` the message's full
 * name; attributes `cloudevents.event_id`, `sap.tenancy.tenant_id`, `sap.auditlogging.mime_type`.
 * Field numbers follow the published `auditevent.proto` (v2) and OTLP's `logs.proto`; the tests
 * decode these bytes with protobufjs against a .proto of the same messages.
 */
import { NG_PROTO_PACKAGE, type JsonValue, type NgEvent, type NgMessageName } from '@otel-audit/semconv';
import { ProtoWriter } from '../../otlp/proto-writer.js';
import { appContextOf, type NgRecordInput, type NgSender } from './ng-common.js';

const SEVERITY_INFO = 9;
export const MIME_PROTOBUF = 'application/protobuf';

/** `google.protobuf.Value` of a JSON value; `null` is `null_value: NULL_VALUE` (written, as a oneof member). */
export function valueOf(v: JsonValue | undefined): ProtoWriter {
  const w = new ProtoWriter();
  if (v === null || v === undefined) return w.int(1, 0, true);
  if (typeof v === 'string') return w.string(3, v, true);
  if (typeof v === 'number') return w.double(2, v, true);
  if (typeof v === 'boolean') return w.int(4, v ? 1 : 0, true);
  if (Array.isArray(v)) {
    const list = new ProtoWriter();
    for (const item of v) list.message(1, valueOf(item));
    return w.message(6, list);
  }
  const struct = new ProtoWriter();
  for (const [key, item] of Object.entries(v)) {
    struct.message(1, new ProtoWriter().string(1, key, true).message(2, valueOf(item)));
  }
  return w.message(5, struct);
}

function timestamp(ms: number): ProtoWriter {
  const seconds = Math.floor(ms / 1000);
  return new ProtoWriter().int(1, seconds).int(2, (ms - seconds * 1000) * 1_000_000);
}

/** `Common`: timestamp 1, source_ip 2, user_initiator_id 4, app_id 5, tenant_id 6, app_context 8. */
function common(input: NgRecordInput, e: NgEvent, sender: NgSender): ProtoWriter {
  const w = new ProtoWriter().message(1, timestamp(input.timeMs));
  if (input.ng.sourceIp !== undefined) w.string(2, input.ng.sourceIp, true);
  w.string(4, input.ng.user);
  if (sender.appId !== undefined) w.string(5, sender.appId);
  w.string(6, input.tenantId);
  const context = appContextOf(e);
  if (context !== undefined) {
    for (const [k, v] of Object.entries(context)) w.message(8, new ProtoWriter().string(1, k).string(2, v));
  }
  return w;
}

const str = (w: ProtoWriter, field: number, v: string | undefined): ProtoWriter =>
  v === undefined ? w : w.string(field, v);
const val = (w: ProtoWriter, field: number, v: string | undefined): ProtoWriter =>
  v === undefined ? w : w.message(field, valueOf(v));

/** The serialized v2 catalog message of one NG event. */
export function encodeNgMessage(input: NgRecordInput, e: NgEvent, sender: NgSender): Buffer {
  const w = new ProtoWriter().message(1, common(input, e, sender));
  const message: NgMessageName = input.ng.rules.message;
  switch (message) {
    case 'DppDataAccess':
      str(w, 2, e.channelType);
      str(w, 3, e.channelId);
      str(w, 4, e.dataSubjectType);
      str(w, 5, e.dataSubjectId);
      str(w, 6, e.objectType);
      str(w, 7, e.objectId);
      str(w, 8, e.attribute);
      str(w, 10, e.attachmentType);
      str(w, 11, e.attachmentId);
      break;
    case 'DppDataModification':
      str(w, 2, e.dataSubjectType);
      str(w, 3, e.dataSubjectId);
      str(w, 4, e.objectType);
      str(w, 5, e.objectId);
      str(w, 6, e.attribute);
      val(w, 7, e.newValue);
      val(w, 8, e.oldValue);
      break;
    case 'DppDataDelete':
      str(w, 2, e.dataSubjectType);
      str(w, 3, e.dataSubjectId);
      str(w, 4, e.objectType);
      str(w, 5, e.objectId);
      str(w, 6, e.attribute);
      val(w, 7, e.oldValue);
      break;
    case 'ConfigurationChange':
      // new_value and old_value are required: an absent old value is a null Value.
      w.message(2, valueOf(e.newValue ?? null)).message(3, valueOf(e.oldValue ?? null));
      str(w, 4, e.attribute);
      str(w, 5, e.objectType);
      str(w, 6, e.objectId);
      break;
    case 'ConfigurationDelete':
      w.message(2, valueOf(e.oldValue ?? null));
      str(w, 3, e.attribute);
      str(w, 4, e.objectType);
      str(w, 5, e.objectId);
      break;
    case 'ZzzCustomEvent':
      // The SAP v2 security event itself (data, ip, identityProvider, attributes …) as a Struct.
      w.message(2, valueOf(input.ng.message as unknown as JsonValue));
      break;
  }
  return w.finish();
}

function keyValue(key: string, value: string): ProtoWriter {
  return new ProtoWriter().string(1, key).message(2, new ProtoWriter().string(1, value, true));
}

const NANOS_PER_MS = 1_000_000n;

/** The record's NG events as OTLP log records: `ScopeLogs.log_records` fields, to go into a request with others. */
export function encodeRecordLogs(input: NgRecordInput, sender: NgSender): Buffer {
  const out = new ProtoWriter();
  const eventName = `${NG_PROTO_PACKAGE}.${input.ng.rules.message}`;
  const time = BigInt(input.timeMs) * NANOS_PER_MS;
  const observed = BigInt(input.receivedAt) * NANOS_PER_MS;
  for (const e of input.ng.events) {
    const body = new ProtoWriter().bytes(7, encodeNgMessage(input, e, sender));
    out.message(
      2,
      new ProtoWriter()
        .fixed64(1, time)
        .int(2, SEVERITY_INFO)
        .message(5, body)
        .message(6, keyValue('cloudevents.event_id', e.id))
        .message(6, keyValue('sap.tenancy.tenant_id', input.tenantId))
        .message(6, keyValue('sap.auditlogging.mime_type', MIME_PROTOBUF))
        .fixed64(11, observed)
        .string(12, eventName),
    );
  }
  return out.finish();
}

/** An `ExportLogsServiceRequest`: one resource, scope `auditlog`, the log records of the records given. */
export function logsRequest(recordLogs: readonly Buffer[], sender: NgSender): Buffer {
  const scope = new ProtoWriter().message(1, new ProtoWriter().string(1, 'auditlog'));
  for (const logs of recordLogs) scope.raw(logs);
  scope.string(3, sender.schemaUrl);
  const resource = new ProtoWriter()
    .message(1, keyValue('service.name', sender.serviceName))
    .message(1, keyValue('sap.ucl.deployment_id', sender.deploymentId))
    .message(1, keyValue('sap.ucl.system_namespace', sender.namespace));
  const resourceLogs = new ProtoWriter().message(1, resource).message(2, scope);
  return new ProtoWriter().message(1, resourceLogs).finish();
}

/**
 * How many log records an `ExportLogsServiceResponse` says were rejected, and why (its
 * `partial_success`: field 1 { rejected_log_records 1, error_message 2 }). An empty or unreadable
 * body counts as full success, as OTLP specifies for an empty response.
 */
export function partialSuccess(body: Buffer): { rejected: number; message: string } {
  const out = { rejected: 0, message: '' };
  try {
    forEachField(body, 0, body.length, (field, wire, start, end) => {
      if (field !== 1 || wire !== 2) return;
      forEachField(body, start, end, (f, w, s, e, v) => {
        if (f === 1 && w === 0) out.rejected = v;
        else if (f === 2 && w === 2) out.message = body.toString('utf8', s, e);
      });
    });
  } catch {
    return { rejected: 0, message: '' };
  }
  return out;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new RangeError('truncated varint');
    const b = buf[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
    if (shift > 63) throw new RangeError('varint too long');
  }
}

/** Calls `fn` for each field of the message in `buf[start, end)` (length-delimited fields give their bounds). */
function forEachField(
  buf: Buffer,
  start: number,
  end: number,
  fn: (field: number, wire: number, start: number, end: number, value: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      const [v, q] = readVarint(buf, pos);
      pos = q;
      fn(field, wire, 0, 0, v);
    } else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      if (q + len > end) throw new RangeError('truncated field');
      fn(field, wire, q, q + len, len);
      pos = q + len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new RangeError(`wire type ${wire}`);
  }
}
