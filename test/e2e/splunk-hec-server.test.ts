/**
 * The HEC test server itself: it must answer as HEC does, or the exporter's tests prove nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { splitConcatenated, SplunkHecServer } from '../support/splunk-hec-server.js';

const TOKEN = 'a1b2c3d4-0000-4000-8000-000000000001';
const ACK = 'a1b2c3d4-0000-4000-8000-000000000002';
const CHANNEL = '5c4e1a2b-3d4f-4a5b-9c8d-7e6f5a4b3c2d';

describe('HEC test server', () => {
  const server = new SplunkHecServer({
    tokens: [
      { token: TOKEN, indexes: ['main', 'audit'] },
      { token: ACK, useAck: true },
    ],
    indexes: ['main', 'audit', 'other'],
  });
  before(() => server.start());
  after(() => server.stop());

  async function call(path: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST') {
    const res = await fetch(`${server.url()}${path}`, {
      method,
      headers,
      ...(method === 'GET' ? {} : { body }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const auth = (token = TOKEN) => ({ Authorization: `Splunk ${token}` });
  const event = (e: Record<string, unknown>) => JSON.stringify({ time: 1763719200.123, event: { a: 1 }, ...e });

  it('splits concatenated JSON, with strings holding braces and escaped quotes', () => {
    const body = Buffer.from('{"event":"a}\\"{"}  \n{"event":{"x":[1,{"y":"}"}]}}{"event":"\\\\"}');
    assert.deepEqual(
      splitConcatenated(body).map(([s, e]) => JSON.parse(body.toString('utf8', s, e)) as unknown),
      [{ event: 'a}"{' }, { event: { x: [1, { y: '}' }] } }, { event: '\\' }],
    );
  });

  it('authenticates like HEC: Splunk scheme, Basic with the token as password, codes 1-4 and 16', async () => {
    assert.deepEqual(await call('/services/collector/event', event({}), auth()), {
      status: 200,
      body: { text: 'Success', code: 0 },
    });
    const basic = `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`;
    assert.equal((await call('/services/collector', event({}), { Authorization: basic })).status, 200);
    assert.deepEqual(await call('/services/collector/event', event({})), {
      status: 401,
      body: { text: 'Token is required', code: 2 },
    });
    assert.deepEqual((await call('/services/collector/event', event({}), { Authorization: 'Bearer x' })).body, {
      text: 'Invalid authorization',
      code: 3,
    });
    assert.deepEqual(await call('/services/collector/event', event({}), auth('nope')), {
      status: 403,
      body: { text: 'Invalid token', code: 4 },
    });
    assert.equal((await call(`/services/collector/event?token=${TOKEN}`, event({}))).body['code'], 16);
    server.token(TOKEN)!.disabled = true;
    assert.deepEqual(await call('/services/collector/event', event({}), auth()), {
      status: 403,
      body: { text: 'Token disabled', code: 1 },
    });
    server.token(TOKEN)!.disabled = false;
  });

  it('checks events, names the first bad one, and indexes the ones before it', async () => {
    const before = server.events.length;
    assert.deepEqual(await call('/services/collector/event', '', auth()), {
      status: 400,
      body: { text: 'No data', code: 5 },
    });
    const cases: [string, number][] = [
      ['{"event":', 6],
      [JSON.stringify({ time: 1 }), 12],
      [event({ event: '  ' }), 13],
      [event({ index: 'other' }), 7],
      [event({ index: 'nope' }), 7],
      [event({ fields: { a: { b: 1 } } }), 15],
      [event({ time: 'yesterday' }), 6],
    ];
    for (const [body, code] of cases) {
      const r = await call('/services/collector/event', event({ event: 'ok' }) + body, auth());
      assert.equal(r.status, 400, body);
      assert.equal(r.body['code'], code, body);
      assert.equal(r.body['invalid-event-number'], 1, body);
    }
    assert.equal(server.events.length - before, cases.length, 'each valid first event was indexed');
    const gz = await call(
      '/services/collector/event',
      gzipSync(event({ index: 'audit', fields: { tenant: 't', list: ['a', 'b'] }, host: 'h' })),
      { ...auth(), 'Content-Encoding': 'gzip' },
    );
    assert.equal(gz.status, 200);
    const stored = server.events.at(-1)!;
    assert.deepEqual(
      { index: stored.index, host: stored.host, fields: stored.fields, time: stored.time },
      { index: 'audit', host: 'h', fields: { tenant: 't', list: ['a', 'b'] }, time: 1763719200.123 },
    );
    assert.equal(server.requests.at(-1)!.gzip, true);
  });

  it('acknowledges per channel: code 10/11 without a valid channel, 14 for tokens without ack', async () => {
    assert.deepEqual((await call('/services/collector/event', event({}), auth(ACK))).body, {
      text: 'Data channel is missing',
      code: 10,
    });
    const bad = { ...auth(ACK), 'X-Splunk-Request-Channel': 'not-a-guid' };
    assert.equal((await call('/services/collector/event', event({}), bad)).body['code'], 11);
    const headers = { ...auth(ACK), 'X-Splunk-Request-Channel': CHANNEL };
    server.ackDelayMs = 150;
    const first = await call('/services/collector/event', event({}), headers);
    const second = await call('/services/collector/event', event({}), headers);
    assert.deepEqual([first.body['ackId'], second.body['ackId']], [0, 1]);
    assert.deepEqual((await call('/services/collector/ack', '{"acks":[0,1,7]}', headers)).body, {
      acks: { '0': false, '1': false, '7': false },
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual((await call('/services/collector/ack', '{"acks":[0,1]}', headers)).body, {
      acks: { '0': true, '1': true },
    });
    assert.deepEqual((await call('/services/collector/ack', '{"acks":[0]}', headers)).body, { acks: { '0': false } });
    assert.equal((await call('/services/collector/ack', '{"acks":[0]}', auth())).body['code'], 14);
    server.ackDelayMs = 0;
  });

  it('answers health, unknown paths, and scripted failures', async () => {
    assert.deepEqual(await call('/services/collector/health', '', {}, 'GET'), {
      status: 200,
      body: { text: 'HEC is healthy', code: 17 },
    });
    server.healthCode = 19;
    assert.equal((await call('/services/collector/health', '', {}, 'GET')).status, 503);
    server.healthCode = 17;
    assert.equal((await call('/services/collector/nope', '', auth())).status, 404);
    server.script.push({ code: 9, headers: { 'Retry-After': '2' } });
    const res = await fetch(`${server.url()}/services/collector/event`, { method: 'POST', body: event({}) });
    assert.deepEqual(
      [res.status, res.headers.get('retry-after'), await res.json()],
      [503, '2', { text: 'Server is busy', code: 9 }],
    );
  });
});
