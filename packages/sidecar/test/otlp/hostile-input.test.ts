import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeLogsRequestJson } from '../../src/otlp/decode-json.js';
import { decodeLogsRequestProto } from '../../src/otlp/decode-proto.js';
import { OtlpDecodeError } from '../../src/otlp/errors.js';
import { ProtoReader } from '../../src/otlp/proto-reader.js';
import { post, startTestService, type TestService } from '../helpers.js';

const UUID = '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11';

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const field = (tag: number, inner: Buffer) => Buffer.concat([Buffer.from([tag, ...varint(inner.length)]), inner]);
const str = (tag: number, bytes: Buffer | string) => field(tag, Buffer.from(bytes));
/** KeyValue{key, value: AnyValue{string_value}} */
const kv = (key: Buffer | string, value: Buffer | string) =>
  Buffer.concat([str(0x0a, key), field(0x12, str(0x0a, value))]);

/** ExportLogsServiceRequest with one ResourceLogs (resource attributes) and one ScopeLogs of `records`. */
function requestOf(records: Buffer[], resourceAttrs: Buffer[] = []): Buffer {
  const resource = field(0x0a, Buffer.concat(resourceAttrs.map((a) => field(0x0a, a))));
  const scope = field(0x12, Buffer.concat(records.map((r) => field(0x12, r))));
  return field(0x0a, Buffer.concat([resource, scope]));
}

/** A LogRecord: event name, body string and string attributes. */
function recordOf(attrs: [Buffer | string, Buffer | string][], body: Buffer | string = 'x'): Buffer {
  return Buffer.concat([
    str(0x62, 'audit.security_event'),
    field(0x2a, str(0x0a, body)),
    ...attrs.map(([k, v]) => field(0x32, kv(k, v))),
  ]);
}

const BAD = Buffer.from([0x61, 0xc3, 0x28, 0x62]); // "a", an invalid two-byte sequence, "b"

describe('protobuf varints', () => {
  it('refuses lengths and tags of 2^32 or more instead of dropping their high bits', () => {
    // A length of 2^32 + 3 would read as 3 if truncated: a valid-looking 3-byte field.
    const length = Buffer.from([0x0a, ...varint(2 ** 32 + 3), 0x0a, 0x01, 0x78]);
    assert.throws(() => decodeLogsRequestProto(length), /varint at byte 1 does not fit in 32 bits/);
    const tag = Buffer.from([...varint(2 ** 32 + 0x0a), 0x00]);
    assert.throws(() => decodeLogsRequestProto(tag), /does not fit in 32 bits/);
    assert.throws(() => decodeLogsRequestProto(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff])), OtlpDecodeError);
  });

  it('still reads negative int32 (10-byte, sign-extended) and any bool varint', () => {
    const r = new ProtoReader(Buffer.from([...varint(2n ** 64n - 5n), ...varint(2n ** 40n), ...varint(4294967295)]));
    assert.equal(r.int32(), -5);
    assert.equal(r.bool(), true);
    assert.equal(r.uint32(), 4294967295);
    const severity = Buffer.concat([Buffer.from([0x10, ...varint(2n ** 64n - 1n)]), str(0x62, 'audit.x')]);
    const decoded = decodeLogsRequestProto(requestOf([severity]));
    assert.equal(decoded.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityNumber, -1);
  });
});

describe('invalid UTF-8 and lone surrogates', () => {
  it('protobuf: flags the record and names the field; refuses invalid UTF-8 in a resource or scope', () => {
    const records = [
      recordOf([['ok', 'fine']]),
      recordOf([['user.id', BAD]]),
      recordOf([[BAD, 'v']]),
      recordOf([], BAD),
      recordOf([['ok', 'ü€😀']]),
    ];
    const decoded = decodeLogsRequestProto(requestOf(records)).resourceLogs[0]!.scopeLogs[0]!.logRecords;
    assert.deepEqual(
      decoded.map((r) => r.malformedField),
      [undefined, 'user.id', 'a\ufffd(b', 'body', undefined],
    );
    // A key decoded once stays flagged when it comes again (keys are cached).
    const again = decodeLogsRequestProto(requestOf([recordOf([[BAD, 'v']])]));
    assert.equal(again.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.malformedField, 'a\ufffd(b');
    assert.throws(
      () => decodeLogsRequestProto(requestOf([recordOf([])], [kv('service.name', BAD)])),
      /a resource holds a string that is not valid UTF-8/,
    );
  });

  it('JSON: refuses a lone surrogate in resource attributes; leaves records to validation', () => {
    const json = (resourceValue: string, recordValue: string) =>
      JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: resourceValue } }] },
            scopeLogs: [{ logRecords: [{ attributes: [{ key: 'user.id', value: { stringValue: recordValue } }] }] }],
          },
        ],
      });
    assert.throws(
      () => decodeLogsRequestJson(json('\ud800', 'ok')),
      /resourceLogs\[0\]\.resource\.attributes: attribute "service.name" is not valid Unicode text/,
    );
    const ok = decodeLogsRequestJson(json('svc', 'u\udfff'));
    assert.equal(ok.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes[0]!.value, 'u\udfff');
  });

  it('caps values quoted by decoding errors', () => {
    const huge = 'q'.repeat(5 * 1024 * 1024);
    assert.throws(
      () => decodeLogsRequestJson(JSON.stringify({ resourceLogs: [huge] })),
      (e: unknown) => e instanceof OtlpDecodeError && e.message.length < 300 && /5242880 characters/.test(e.message),
    );
  });
});

describe('hostile input through the receiver', () => {
  let s: TestService;
  before(async () => {
    s = await startTestService();
  });
  after(async () => {
    await s.close();
  });

  it('rejects only the record with invalid text, naming the field; stores the others', async () => {
    const good = '00000000-0000-4000-8000-000000000001';
    const proto = requestOf([
      recordOf([['log.record.uid', good]]),
      recordOf([
        ['log.record.uid', UUID],
        ['user.id', BAD],
      ]),
    ]);
    const res = await post(s.url, proto, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 200);
    assert.match(
      res.body.toString('latin1'),
      /1 of 2 log records rejected\nrecord 1 uuid=-: user\.id: is not valid Unicode text/,
    );
    const lone = JSON.stringify({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: [
                {
                  eventName: 'audit.security_event',
                  body: { stringValue: 'x' },
                  attributes: [
                    { key: 'log.record.uid', value: { stringValue: UUID } },
                    { key: 'user.id', value: { stringValue: 'bad \ud800' } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const json = await post(s.url, lone, { 'Content-Type': 'application/json' });
    assert.equal(json.status, 200);
    assert.match(JSON.parse(json.body.toString()).partialSuccess.errorMessage, /user\.id: is not valid Unicode text/);
    const notUtf8 = await post(s.url, Buffer.concat([Buffer.from('{"resourceLogs":["'), BAD, Buffer.from('"]}')]), {
      'Content-Type': 'application/json',
    });
    assert.equal(notUtf8.status, 400);
    assert.match(notUtf8.body.toString(), /the JSON body is not valid UTF-8/);
    await s.waitFor([good]);
  });

  it('keeps __proto__ keys in the local record, and never answers with a huge error', async () => {
    const uuid = '00000000-0000-4000-8000-000000000002';
    const proto = requestOf(
      [
        recordOf([
          ['log.record.uid', uuid],
          ['audit.custom.__proto__', 'kept'],
        ]),
      ],
      [kv('__proto__', 'resource too')],
    );
    assert.equal((await post(s.url, proto, { 'Content-Type': 'application/x-protobuf' })).status, 200);
    const [line] = (await s.waitFor([uuid])).filter((l) => l['message_uuid'] === uuid);
    assert.deepEqual(Object.getOwnPropertyNames((line!['message'] as { customDetails: object }).customDetails), [
      '__proto__',
    ]);
    assert.equal(JSON.stringify(line!['resource']), '{"__proto__":"resource too"}');

    const huge = 'h'.repeat(5 * 1024 * 1024);
    const bad = requestOf([recordOf([['log.record.uid', huge]])]);
    const res = await post(s.url, bad, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(res.status, 200);
    assert.ok(res.body.length < 2048, `the answer has ${res.body.length} bytes`);
    const notFound = await post(s.url.replace('/v1/logs', `/${huge.slice(0, 10_000)}`), '{}', {
      'Content-Type': 'application/json',
    });
    assert.equal(notFound.status, 404);
    assert.ok(notFound.body.length < 1024);
  });
});
