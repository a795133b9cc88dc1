import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { otelRecords } from '../otel-records.js';
import { post, startTestService, type TestService } from '../helpers.js';

const PROTO = { 'Content-Type': 'application/x-protobuf' };
const JSON_CT = { 'Content-Type': 'application/json' };

/** max_attributes_per_record 8: the decoders refuse a request only past 4 × 8 + 64 = 96 attributes. */
const LIMITS = `    limits:
      max_records_per_request: 5
      max_attributes_per_record: 8`;

function securityEvent(i: number, extraAttributes = 0) {
  const attributes: Record<string, string> = {
    'log.record.uid': `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  };
  for (let a = 0; a < extraAttributes; a++) attributes[`extra.${a}`] = 'v';
  return { eventName: 'audit.security_event', body: `event ${i}`, attributes };
}

function message(res: { body: Buffer }): string {
  return (JSON.parse(res.body.toString()) as { message: string }).message;
}

describe('OTLP/HTTP receiver: limits enforced while decoding', () => {
  let s: TestService;
  before(async () => {
    s = await startTestService({ http: LIMITS });
  });
  after(async () => {
    await s.close();
  });

  it('refuses a JSON body with more records than max_records_per_request before decoding the excess', async () => {
    // The sixth record is malformed: it must not be decoded, the request is refused for its size.
    const record = { eventName: 'audit.security_event', body: { stringValue: 'x' } };
    const body = JSON.stringify({
      resourceLogs: [
        { scopeLogs: [{ logRecords: [record, record, record] }] },
        { scopeLogs: [{ logRecords: [record, record, { timeUnixNano: 'not a number' }] }] },
      ],
    });
    const res = await post(s.url, body, JSON_CT);
    assert.equal(res.status, 413);
    assert.equal(message(res), 'the request has more than 5 log records; send them in smaller requests');
  });

  it('refuses a record with a huge number of attributes, in protobuf and JSON, naming the limit', async () => {
    const records = otelRecords([securityEvent(1, 100)]);
    const expected =
      /attributes has more than 96 entries \(4 × max_attributes_per_record 8 \+ 64\); the request is refused$/;
    const proto = await post(s.url, Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!), PROTO);
    assert.equal(proto.status, 413);
    assert.match(proto.body.toString(), expected);
    const json = await post(s.url, Buffer.from(JsonLogsSerializer.serializeRequest(records)!), JSON_CT);
    assert.equal(json.status, 413);
    assert.match(message(json), expected);
    assert.match(message(json), /^resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.attributes/);
  });

  it('still rejects a record slightly over max_attributes_per_record on its own, with partial_success', async () => {
    const records = otelRecords([securityEvent(10, 9), securityEvent(11)]);
    const res = await post(s.url, Buffer.from(JsonLogsSerializer.serializeRequest(records)!), JSON_CT);
    assert.equal(res.status, 200);
    const partial = (
      JSON.parse(res.body.toString()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } }
    ).partialSuccess;
    assert.equal(Number(partial.rejectedLogRecords), 1);
    assert.match(partial.errorMessage, /10 attributes; at most 8 are accepted/);
    await s.waitFor(['00000000-0000-4000-8000-000000000011']);
  });

  it('answers 400 (not 503) to 100 000 nested protobuf groups', async () => {
    const res = await post(s.url, Buffer.alloc(100_000, 0x7b), PROTO);
    assert.equal(res.status, 400);
    assert.equal(res.headers['retry-after'], undefined);
    assert.match(res.body.toString(), /groups nested deeper than 64 levels/);
  });
});
