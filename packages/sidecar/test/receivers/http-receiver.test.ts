import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { otelRecords } from '../otel-records.js';
import { post, startTestService, type TestService } from '../helpers.js';

const PROTO = { 'Content-Type': 'application/x-protobuf' };
const JSON_CT = { 'Content-Type': 'application/json' };

function securityEvents(n: number, start = 0) {
  return otelRecords(
    Array.from({ length: n }, (_, i) => ({
      eventName: 'audit.security_event',
      body: `event ${start + i}`,
      attributes: { 'log.record.uid': `00000000-0000-4000-8000-${String(start + i).padStart(12, '0')}` },
    })),
  );
}

describe('OTLP/HTTP receiver', () => {
  let s: TestService;
  before(async () => {
    s = await startTestService({ http: '        max_request_body_size: 65536' });
  });
  after(async () => {
    await s.close();
  });

  it('accepts protobuf and answers with an empty protobuf response', async () => {
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(securityEvents(3))!);
    const res = await post(s.url, body, PROTO);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-protobuf');
    assert.equal(res.body.length, 0);
  });

  it('accepts JSON and answers with {}', async () => {
    const body = Buffer.from(JsonLogsSerializer.serializeRequest(securityEvents(2, 100))!);
    const res = await post(s.url, body, { ...JSON_CT, 'Content-Type': 'application/json; charset=utf-8' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.body.toString(), '{}');
  });

  it('accepts gzip and deflate bodies', async () => {
    const raw = Buffer.from(ProtobufLogsSerializer.serializeRequest(securityEvents(1, 200))!);
    assert.equal((await post(s.url, gzipSync(raw), { ...PROTO, 'Content-Encoding': 'gzip' })).status, 200);
    assert.equal((await post(s.url, deflateSync(raw), { ...PROTO, 'Content-Encoding': 'deflate' })).status, 200);
    await s.waitFor(['00000000-0000-4000-8000-000000000200']);
  });

  it('answers 404, 405 and 415 as the OTLP spec and the Collector do', async () => {
    const body = Buffer.from('{}');
    assert.equal((await post(s.url.replace('/v1/logs', '/v1/traces'), body, JSON_CT)).status, 404);
    const get = await post(s.url, '', {}, 'GET');
    assert.equal(get.status, 405);
    assert.equal(get.headers['allow'], 'POST');
    const text = await post(s.url, body, { 'Content-Type': 'text/plain' });
    assert.equal(text.status, 415);
    assert.match(JSON.parse(text.body.toString()).message, /unsupported content type/);
    const br = await post(s.url, body, { ...JSON_CT, 'Content-Encoding': 'br' });
    assert.equal(br.status, 415);
  });

  it('answers 400 with a google.rpc.Status for undecodable bodies', async () => {
    const proto = await post(s.url, Buffer.from([0x0a, 0x7f, 0x01]), PROTO);
    assert.equal(proto.status, 400);
    assert.equal(proto.headers['content-type'], 'application/x-protobuf');
    assert.ok(proto.body.toString().includes('runs past the end'));
    const json = await post(s.url, '{"resourceLogs": [{"scopeLogs": 5}]}', JSON_CT);
    assert.equal(json.status, 400);
    assert.deepEqual(JSON.parse(json.body.toString()), {
      code: 3,
      message: 'resourceLogs[0].scopeLogs: expected an array, got number 5',
    });
    const badGzip = await post(s.url, Buffer.from('not gzip'), { ...PROTO, 'Content-Encoding': 'gzip' });
    assert.equal(badGzip.status, 400);
  });

  it('answers 413 for bodies over the limit, before and after decompression', async () => {
    const big = Buffer.alloc(70_000, 0x20);
    const declared = await post(s.url, big, JSON_CT);
    assert.equal(declared.status, 413);
    assert.equal(declared.headers['connection'], 'close');
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    assert.ok(bomb.length < 65536);
    const res = await post(s.url, bomb, { ...JSON_CT, 'Content-Encoding': 'gzip' });
    assert.equal(res.status, 413);
    assert.match(JSON.parse(res.body.toString()).message, /decompressed body exceeds the limit of 65536 bytes/);
  });

  it('answers 413 for a chunked upload that grows past the limit', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(s.url, { method: 'POST', headers: JSON_CT }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(10_000, 0x20));
      req.end();
    });
    assert.equal(status, 413);
  });

  it('keeps serving after hostile input', async () => {
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(securityEvents(1, 300))!);
    const res = await post(s.url, body, PROTO);
    assert.equal(res.status, 200);
  });
});
