import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { KeyValueList, type AnyValue } from '@otel-audit/semconv';
import { decodeLogsRequestJson } from '../../src/otlp/decode-json.js';
import { decodeLogsRequestProto } from '../../src/otlp/decode-proto.js';
import { DEFAULT_DECODE_LIMITS } from '../../src/model/limits.js';
import type { LogsRequest } from '../../src/model/otlp-logs.js';
import { OtlpDecodeError } from '../../src/otlp/errors.js';
import { otelRecords, SeverityNumber } from '../otel-records.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

function sample() {
  return otelRecords([
    {
      eventName: 'audit.data_access',
      timestamp: [1763719200, 123456789],
      observedTimestamp: [1763719201, 5],
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'read customer 4711',
      attributes: {
        str: 'value ü €',
        long: 'x'.repeat(300),
        bool: true,
        int: 42,
        negative: -7,
        double: 1.5,
        strings: ['a', 'b'],
        mixed: [1, 'two', false],
        nested: { k: 'v', inner: { deep: 1 } },
        bytes: new Uint8Array([0, 1, 254, 255]),
      },
      context: undefined,
    },
    { eventName: 'audit.security_event', body: { structured: ['body', 2] } },
  ]);
}

function firstRecord(req: LogsRequest) {
  return req.resourceLogs[0]!.scopeLogs[0]!.logRecords;
}

function attr(values: readonly { key: string; value: AnyValue }[], key: string): AnyValue {
  return values.find((kv) => kv.key === key)?.value ?? null;
}

describe('protobuf decoder against the official OTel JS encoder', () => {
  const req = decodeLogsRequestProto(Buffer.from(ProtobufLogsSerializer.serializeRequest(sample())!));

  it('decodes resource, scope and every log record field', () => {
    const rl = req.resourceLogs[0]!;
    assert.equal(attr(rl.resource!.attributes, 'service.name'), 'billing');
    const sl = rl.scopeLogs[0]!;
    assert.equal(sl.scope!.name, 'audit-test');
    assert.equal(sl.scope!.version, '1.2.3');
    const [r0, r1] = firstRecord(req);
    assert.equal(r0!.eventName, 'audit.data_access');
    assert.equal(r0!.timeUnixNano, 1763719200123456789n);
    assert.equal(r0!.observedTimeUnixNano, 1763719201000000005n);
    assert.equal(r0!.severityNumber, 9);
    assert.equal(r0!.severityText, 'INFO');
    assert.equal(r0!.body, 'read customer 4711');
    assert.equal(r1!.eventName, 'audit.security_event');
    assert.ok(r1!.body instanceof KeyValueList);
  });

  it('decodes every AnyValue type', () => {
    const a = firstRecord(req)[0]!.attributes;
    assert.equal(attr(a, 'str'), 'value ü €');
    assert.equal(attr(a, 'long'), 'x'.repeat(300));
    assert.equal(attr(a, 'bool'), true);
    assert.equal(attr(a, 'int'), 42n);
    assert.equal(attr(a, 'negative'), -7n);
    assert.equal(attr(a, 'double'), 1.5);
    assert.deepEqual(attr(a, 'strings'), ['a', 'b']);
    assert.deepEqual(attr(a, 'mixed'), [1n, 'two', false]);
    const nested = attr(a, 'nested');
    assert.ok(nested instanceof KeyValueList);
    assert.equal(attr(nested.values, 'k'), 'v');
    const inner = attr(nested.values, 'inner');
    assert.ok(inner instanceof KeyValueList);
    assert.equal(attr(inner.values, 'deep'), 1n);
    assert.deepEqual([...(attr(a, 'bytes') as Uint8Array)], [0, 1, 254, 255]);
  });

  it('decodes trace context', () => {
    const records = otelRecords([{ eventName: 'audit.security_event', body: 'x' }]);
    const r0 = records[0]!;
    const withSpan = {
      hrTime: r0.hrTime,
      hrTimeObserved: r0.hrTimeObserved,
      body: r0.body,
      eventName: r0.eventName,
      attributes: r0.attributes,
      droppedAttributesCount: 0,
      resource: r0.resource,
      instrumentationScope: r0.instrumentationScope,
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 },
    };
    const decoded = decodeLogsRequestProto(Buffer.from(ProtobufLogsSerializer.serializeRequest([withSpan])!));
    const r = firstRecord(decoded)[0]!;
    assert.equal(r.traceId, TRACE_ID);
    assert.equal(r.spanId, SPAN_ID);
    assert.equal(r.flags, 1);
  });

  it('decodes an empty request', () => {
    assert.deepEqual(decodeLogsRequestProto(Buffer.alloc(0)), { resourceLogs: [] });
  });
});

describe('JSON decoder against the official OTel JS JSON encoder', () => {
  it('produces the same model as the protobuf decoder', () => {
    const records = sample();
    const fromProto = decodeLogsRequestProto(Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!));
    const fromJson = decodeLogsRequestJson(Buffer.from(JsonLogsSerializer.serializeRequest(records)!).toString('utf8'));
    assert.deepEqual(fromJson, fromProto);
  });

  it('accepts 64-bit integers as strings or numbers and hex ids in either case', () => {
    const req = decodeLogsRequestJson(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [
                  {
                    timeUnixNano: 1763719200000000000,
                    observedTimeUnixNano: '1763719200000000001',
                    traceId: TRACE_ID.toUpperCase(),
                    spanId: SPAN_ID,
                    attributes: [
                      { key: 'a', value: { intValue: 5 } },
                      { key: 'b', value: { intValue: '-9007199254740993' } },
                      { key: 'c', value: { doubleValue: 'NaN' } },
                      { key: 'd', value: { bytesValue: 'AAH+/w==' } },
                      { key: 'e', value: {} },
                    ],
                    unknownField: { ignored: true },
                    time_unix_nano: 'snake_case keys are unknown fields',
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const r = firstRecord(req)[0]!;
    assert.equal(r.timeUnixNano, 1763719200000000000n);
    assert.equal(r.observedTimeUnixNano, 1763719200000000001n);
    assert.equal(r.traceId, TRACE_ID);
    assert.equal(attr(r.attributes, 'a'), 5n);
    assert.equal(attr(r.attributes, 'b'), -9007199254740993n);
    assert.ok(Number.isNaN(attr(r.attributes, 'c')));
    assert.deepEqual([...(attr(r.attributes, 'd') as Uint8Array)], [0, 1, 254, 255]);
    assert.equal(attr(r.attributes, 'e'), null);
  });

  it('names the JSON path of a bad value', () => {
    const bad = (logRecord: unknown, expected: RegExp) =>
      assert.throws(
        () => decodeLogsRequestJson(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [logRecord] }] }] })),
        (e: unknown) => e instanceof OtlpDecodeError && expected.test(e.message),
      );
    bad({ timeUnixNano: true }, /^resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.timeUnixNano: expected/);
    bad({ timeUnixNano: '-5' }, /timeUnixNano: expected a non-negative 64-bit integer/);
    bad({ timeUnixNano: '18446744073709551616' }, /timeUnixNano: out of 64-bit range/);
    bad({ traceId: 'xyz' }, /traceId: expected 32 hex digits/);
    bad(
      { attributes: [{ key: 'k', value: { boolValue: 'yes' } }] },
      /attributes\[0\]\.value\.boolValue: expected true or false/,
    );
    bad({ attributes: {} }, /attributes: expected an array/);
    bad({ severityNumber: 'INFO' }, /severityNumber: expected an integer/);
    assert.throws(() => decodeLogsRequestJson('{"resourceLogs": ['), /invalid JSON/);
    assert.throws(() => decodeLogsRequestJson('[]'), /\$: expected an object/);
  });

  it('bounds AnyValue nesting', () => {
    let v: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 40; i++) v = { arrayValue: { values: [v] } };
    const body = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: v }] }] }] });
    assert.throws(
      () => decodeLogsRequestJson(body),
      new RegExp(`nesting deeper than ${DEFAULT_DECODE_LIMITS.maxDepth}`),
    );
  });
});

describe('protobuf decoder on malformed input', () => {
  const valid = Buffer.from(ProtobufLogsSerializer.serializeRequest(sample())!);

  it('rejects every truncation of a valid request', () => {
    let rejected = 0;
    for (let len = 1; len < valid.length; len++) {
      try {
        decodeLogsRequestProto(valid.subarray(0, len));
      } catch (err) {
        assert.ok(err instanceof OtlpDecodeError, `unexpected ${String(err)}`);
        rejected++;
      }
    }
    // A prefix can end exactly on a field boundary and be a valid (shorter) message; most are not.
    assert.ok(rejected > valid.length * 0.9, `${rejected} of ${valid.length - 1} truncations rejected`);
  });

  it('rejects invalid wire types and lengths past the end', () => {
    assert.throws(() => decodeLogsRequestProto(Buffer.from([0x0f])), OtlpDecodeError);
    assert.throws(() => decodeLogsRequestProto(Buffer.from([0x0a, 0x7f, 0x00])), /runs past the end/);
    assert.throws(
      () => decodeLogsRequestProto(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
      OtlpDecodeError,
    );
  });

  it('skips unknown fields of every wire type', () => {
    // field 99 varint, field 98 fixed64, field 97 bytes, field 96 fixed32, then the valid request.
    const unknown = Buffer.from([
      0x98, 0x06, 0x01, 0x91, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x8a, 0x06, 0x02, 0xaa, 0xbb, 0x85, 0x06, 1, 2, 3, 4,
    ]);
    const req = decodeLogsRequestProto(Buffer.concat([unknown, valid]));
    assert.equal(firstRecord(req).length, 2);
  });

  it('bounds AnyValue nesting', () => {
    // AnyValue{ array_value{ values: AnyValue{ array_value{ ... } } } } nested 40 deep as a record body.
    const nest = (inner: Buffer, tag: number) => Buffer.concat([Buffer.from([tag, ...varint(inner.length)]), inner]);
    let deep = Buffer.from([0x0a, 0x01, 0x78]);
    for (let i = 0; i < 40; i++) deep = nest(nest(deep, 0x0a), 0x2a);
    const record = nest(deep, 0x2a);
    const request = nest(nest(nest(record, 0x12), 0x12), 0x0a);
    assert.throws(
      () => decodeLogsRequestProto(request),
      new RegExp(`nesting deeper than ${DEFAULT_DECODE_LIMITS.maxDepth}`),
    );
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

describe('protobuf strings', () => {
  it('keeps attribute keys apart that share length and sample bytes, and decodes invalid UTF-8 as U+FFFD', () => {
    const keys = ['audit.attribute.ab.new', 'audit.attribute.ba.new', 'audit.attribute.xy.new', 'k', 'é'];
    const kv = (key: string, value: Buffer) => {
      const k = Buffer.from(key);
      const v = Buffer.concat([Buffer.from([0x0a, value.length]), value]); // AnyValue.string_value
      const body = Buffer.concat([Buffer.from([0x0a, k.length]), k, Buffer.from([0x12, v.length]), v]);
      return Buffer.concat([Buffer.from([0x32, body.length]), body]); // LogRecord.attributes
    };
    const attrs = Buffer.concat([
      ...keys.map((k) => kv(k, Buffer.from(k))),
      kv('bad', Buffer.from([0x61, 0xff, 0x62])),
    ]);
    const nest = (inner: Buffer, tag: number) => Buffer.concat([Buffer.from([tag, ...varint(inner.length)]), inner]);
    const request = nest(nest(nest(attrs, 0x12), 0x12), 0x0a);
    for (let round = 0; round < 2; round++) {
      const decoded = decodeLogsRequestProto(request);
      const a = firstRecord(decoded)[0]!.attributes;
      assert.deepEqual(
        a.map((x) => [x.key, x.value]),
        [...keys.map((k) => [k, k]), ['bad', 'a\ufffdb']],
      );
    }
  });
});
