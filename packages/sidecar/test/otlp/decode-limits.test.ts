import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { decodeLogsRequestJson } from '../../src/otlp/decode-json.js';
import { decodeLogsRequestProto } from '../../src/otlp/decode-proto.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../../src/model/limits.js';
import { decoding, maxElements } from '../../src/otlp/decode-limits.js';
import { OtlpDecodeError, OtlpLimitError } from '../../src/otlp/errors.js';
import { MAX_GROUP_DEPTH, ProtoReader } from '../../src/otlp/proto-reader.js';
import { otelRecords } from '../otel-records.js';

/** max_attributes_per_record 8: the decoders refuse a request past 4 × 8 + 64 = 96 entries. */
const LIMITS: DecodeLimits = { maxDepth: 16, maxRecords: 5, maxAttributes: 8 };
const CAP = 96;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-delimited field: tag byte, length, contents. */
function field(tag: number, ...inner: Buffer[]): Buffer {
  const body = Buffer.concat(inner);
  return Buffer.concat([Buffer.from([tag, ...varint(body.length)]), body]);
}

/** `n` empty KeyValues under the given tag (2 bytes each on the wire). */
function emptyEntries(tag: number, n: number): Buffer {
  return Buffer.alloc(2 * n, Buffer.from([tag, 0x00]));
}

// Request → ResourceLogs (1) → ScopeLogs (2) → LogRecord (2).
const protoRequest = (...scopeLogs: Buffer[]) => field(0x0a, ...scopeLogs.map((sl) => field(0x12, sl)));
const protoRecord = (...contents: Buffer[]) => field(0x12, ...contents);
const eventName = field(0x62, Buffer.from('audit.security_event'));

function attributesObject(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`attr.${i}`, 'v']));
}

function jsonRequest(scopes: unknown[][], resourceAttributes: unknown[] = []): string {
  return JSON.stringify({
    resourceLogs: [
      { resource: { attributes: resourceAttributes }, scopeLogs: scopes.map((logRecords) => ({ logRecords })) },
    ],
  });
}

const jsonAttributes = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `attr.${i}`, value: { stringValue: 'v' } }));

describe('decoders: max_records_per_request while decoding', () => {
  it('JSON: refuses the request as soon as the count passes the limit, before decoding the records past it', () => {
    // Six records over two scopes; the sixth is malformed, and is never decoded.
    const ok = { eventName: 'audit.security_event' };
    const body = jsonRequest([
      [ok, ok, ok],
      [ok, ok, { timeUnixNano: 'not a number' }],
    ]);
    assert.throws(
      () => decodeLogsRequestJson(body, LIMITS),
      (err) => err instanceof OtlpLimitError && /more than 5 log records/.test(err.message),
    );
    assert.equal(
      firstRecords(
        decodeLogsRequestJson(
          jsonRequest([
            [ok, ok],
            [ok, ok, ok],
          ]),
          LIMITS,
        ),
      ).length,
      2,
    );
  });

  it('JSON: counts records across resources', () => {
    const rl = { scopeLogs: [{ logRecords: [{}, {}, {}] }] };
    assert.throws(
      () => decodeLogsRequestJson(JSON.stringify({ resourceLogs: [rl, rl] }), LIMITS),
      (err) => err instanceof OtlpLimitError && /more than 5 log records/.test(err.message),
    );
  });

  it('protobuf: counts records across the scopes of one resource as they are read', () => {
    // Three scopes of two records each in one ResourceLogs, then a scope whose record is truncated.
    const rec = protoRecord(eventName);
    const truncated = Buffer.from([0x12, 0x05, 0x00]);
    const body = protoRequest(
      Buffer.concat([rec, rec]),
      Buffer.concat([rec, rec]),
      Buffer.concat([rec, rec]),
      truncated,
    );
    assert.throws(
      () => decodeLogsRequestProto(body, LIMITS),
      (err) => err instanceof OtlpLimitError && /more than 5 log records/.test(err.message),
    );
  });
});

describe('decoders: hard cap on attributes and array/kvlist elements', () => {
  it('decodes records up to the cap, leaving ones over max_attributes_per_record to the pipeline', () => {
    const records = otelRecords([{ eventName: 'audit.security_event', body: 'x', attributes: attributesObject(CAP) }]);
    const proto = decodeLogsRequestProto(Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!), LIMITS);
    assert.equal(firstRecords(proto)[0]!.attributes.length, CAP);
    const json = decodeLogsRequestJson(Buffer.from(JsonLogsSerializer.serializeRequest(records)!).toString(), LIMITS);
    assert.equal(firstRecords(json)[0]!.attributes.length, CAP);
    assert.equal(maxElements(LIMITS), CAP);
  });

  it('protobuf: refuses a record with more attributes than the cap, naming the limit', () => {
    const records = otelRecords([
      { eventName: 'audit.security_event', body: 'x', attributes: attributesObject(CAP + 1) },
    ]);
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!);
    assert.throws(() => decodeLogsRequestProto(body, LIMITS), {
      name: 'OtlpLimitError',
      message: `a log record's attributes has more than ${CAP} entries (4 × max_attributes_per_record 8 + 64); the request is refused`,
    });
  });

  it('protobuf: refuses 100 000 attributes on one record with the default limits', () => {
    const body = protoRequest(protoRecord(eventName, emptyEntries(0x32, 100_000)));
    assert.ok(body.length < 250_000);
    assert.throws(
      () => decodeLogsRequestProto(body, DEFAULT_DECODE_LIMITS),
      (err) => err instanceof OtlpLimitError && /max_attributes_per_record/.test(err.message),
    );
  });

  it('protobuf: caps resource and scope attributes, arrays and kvlists', () => {
    const over = CAP + 1;
    const resource = field(0x0a, emptyEntries(0x0a, over));
    const scope = field(0x0a, emptyEntries(0x1a, over));
    const arrayBody = field(0x2a, field(0x2a, emptyEntries(0x0a, over))); // body = AnyValue{array_value}
    const kvlistBody = field(0x2a, field(0x32, emptyEntries(0x0a, over))); // body = AnyValue{kvlist_value}
    const cases: [Buffer, RegExp][] = [
      [field(0x0a, resource), /a resource's attributes has more than 96/],
      [protoRequest(Buffer.concat([scope, protoRecord()])), /a scope's attributes has more than 96/],
      [protoRequest(protoRecord(arrayBody)), /an array value has more than 96/],
      [protoRequest(protoRecord(kvlistBody)), /a kvlist value has more than 96/],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => decodeLogsRequestProto(body, LIMITS),
        (err) => err instanceof OtlpLimitError && message.test(err.message),
      );
    }
  });

  it('JSON: refuses a record, resource, array or kvlist with more entries than the cap, naming the limit', () => {
    const over = CAP + 1;
    assert.throws(() => decodeLogsRequestJson(jsonRequest([[{ attributes: jsonAttributes(over) }]]), LIMITS), {
      name: 'OtlpLimitError',
      message: `resourceLogs[0].scopeLogs[0].logRecords[0].attributes has more than ${CAP} entries (4 × max_attributes_per_record 8 + 64); the request is refused`,
    });
    assert.throws(
      () => decodeLogsRequestJson(jsonRequest([[{}]], jsonAttributes(over)), LIMITS),
      /resourceLogs\[0\]\.resource\.attributes has more than 96 entries/,
    );
    const values = Array.from({ length: over }, () => ({ stringValue: 'v' }));
    assert.throws(
      () => decodeLogsRequestJson(jsonRequest([[{ body: { arrayValue: { values } } }]]), LIMITS),
      /logRecords\[0\]\.body\.arrayValue\.values has more than 96 entries/,
    );
    assert.throws(
      () => decodeLogsRequestJson(jsonRequest([[{ body: { kvlistValue: { values: jsonAttributes(over) } } }]]), LIMITS),
      /logRecords\[0\]\.body\.kvlistValue\.values has more than 96 entries/,
    );
    assert.throws(
      () => decodeLogsRequestJson(jsonRequest([[{ attributes: jsonAttributes(100_000) }]])),
      (err) => err instanceof OtlpLimitError && /max_attributes_per_record/.test(err.message),
    );
  });

  it('caps empty ResourceLogs and ScopeLogs, which hold no records', () => {
    const n = LIMITS.maxRecords + 65;
    assert.throws(
      () => decodeLogsRequestProto(emptyEntries(0x0a, n), LIMITS),
      (err) => err instanceof OtlpLimitError && /more than 69 ResourceLogs/.test(err.message),
    );
    assert.throws(
      () => decodeLogsRequestProto(field(0x0a, emptyEntries(0x12, n)), LIMITS),
      (err) => err instanceof OtlpLimitError && /more than 69 ScopeLogs/.test(err.message),
    );
    assert.throws(
      () => decodeLogsRequestJson(JSON.stringify({ resourceLogs: Array.from({ length: n }, () => ({})) }), LIMITS),
      /more than 69 ResourceLogs/,
    );
    assert.equal(decodeLogsRequestProto(emptyEntries(0x0a, n - 1), LIMITS).resourceLogs.length, n - 1);
  });
});

describe('protobuf groups', () => {
  const valid = protoRequest(protoRecord(eventName));

  it('refuses 100 000 nested start-group tags with a decode error, not a stack overflow', () => {
    const body = Buffer.alloc(100_000, 0x7b); // field 15, wire type 3 (SGROUP), over and over
    assert.throws(
      () => decodeLogsRequestProto(body),
      (err) =>
        err instanceof OtlpDecodeError &&
        !(err instanceof OtlpLimitError) &&
        /groups nested deeper than 64 levels/.test(err.message),
    );
    assert.throws(() => new ProtoReader(body).skipField(3, 15), /groups nested deeper than 64 levels/);
  });

  it(`skips unknown groups nested up to ${MAX_GROUP_DEPTH} deep`, () => {
    const groups = (depth: number) => Buffer.concat([Buffer.alloc(depth, 0x7b), Buffer.alloc(depth, 0x7c), valid]); // 0x7c: end of group 15
    assert.equal(firstRecords(decodeLogsRequestProto(groups(MAX_GROUP_DEPTH))).length, 1);
    assert.throws(() => decodeLogsRequestProto(groups(MAX_GROUP_DEPTH + 1)), /groups nested deeper than 64/);
  });

  it('turns a RangeError out of a decoder into a decode error', () => {
    const overflow = (): never => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    assert.throws(
      () => decoding(overflow),
      (err) => {
        assert.ok(err instanceof OtlpDecodeError && !(err instanceof OtlpLimitError));
        assert.equal(err.message, 'cannot decode the request: Maximum call stack size exceeded');
        assert.ok(err.cause instanceof RangeError);
        return true;
      },
    );
    const other = new TypeError('not a decode problem');
    assert.throws(
      () =>
        decoding(() => {
          throw other;
        }),
      (err) => err === other,
    );
  });
});

function firstRecords(req: ReturnType<typeof decodeLogsRequestProto>) {
  return req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
}
