import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from '../../../src/exporters/splunk-hec/codes.js';

const hec = (code: number, text: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ text, code, ...extra });

describe('splunk_hec response codes', () => {
  it('delivered: code 0, with the ackId when there is one', () => {
    assert.deepEqual(classify(200, hec(0, 'Success'), {}), { kind: 'delivered', ackId: undefined });
    assert.deepEqual(classify(200, hec(0, 'Success', { ackId: 7 }), {}), { kind: 'delivered', ackId: 7 });
    assert.deepEqual(
      classify(200, '', {}),
      { kind: 'delivered', ackId: undefined },
      'HEC-compatible receivers without a body',
    );
    assert.deepEqual(classify(204, '', {}), { kind: 'delivered', ackId: undefined });
    assert.deepEqual(classify(200, '<html><title>Splunk login</title></html>', {}), {
      kind: 'retry',
      reason:
        'Splunk HEC HTTP 200: <html><title>Splunk login</title></html>: the answer is not from HEC; check endpoint',
    });
  });

  it('load and outages: retry the whole request, honouring Retry-After', () => {
    const busy = classify(503, hec(9, 'Server is busy'), { 'retry-after': '3' });
    assert.deepEqual(busy, {
      kind: 'retry',
      reason: 'Splunk HEC HTTP 503 code 9 (Server is busy)',
      retryAfterMs: 3000,
    });
    for (const [status, body] of [
      [500, hec(8, 'Internal server error')],
      [503, hec(18, 'HEC is unhealthy, queues are full')],
      [503, hec(19, 'HEC is unhealthy, ack service unavailable')],
      [503, hec(20, 'HEC is unhealthy, queues are full, ack service unavailable')],
      [429, ''],
      [502, '<html>Bad Gateway</html>'],
      [503, ''],
      [504, 'upstream timeout'],
    ] as const) {
      assert.equal(classify(status, body, {}).kind, 'retry', `${status} ${body}`);
    }
    assert.equal((classify(429, '', { 'retry-after': '1' }) as { retryAfterMs: number }).retryAfterMs, 1000);
    assert.match(
      (classify(502, '<html>Bad Gateway</html>', {}) as { reason: string }).reason,
      /HTTP 502: <html>Bad Gateway/,
    );
  });

  it('token problems keep the records: retry with advice, never dead letters', () => {
    for (const [status, code, text] of [
      [403, 1, 'Token disabled'],
      [401, 2, 'Token is required'],
      [401, 3, 'Invalid authorization'],
      [403, 4, 'Invalid token'],
      [400, 21, 'Invalid token'],
      [400, 22, 'Token disabled'],
    ] as const) {
      const v = classify(status, hec(code, text), {});
      assert.equal(v.kind, 'retry', `code ${code}`);
      assert.match((v as { reason: string }).reason, new RegExp(`HTTP ${status} code ${code} \\(${text}\\): .*token`));
    }
    assert.equal(classify(401, 'Unauthorized', {}).kind, 'retry', 'a proxy refusing us is no reason to drop records');
    assert.equal(classify(403, '', {}).kind, 'retry');
  });

  it('channel and setup problems: retry with advice', () => {
    assert.match((classify(400, hec(10, 'Data channel is missing'), {}) as { reason: string }).reason, /set ack: true/);
    assert.equal(classify(400, hec(11, 'Invalid data channel'), {}).kind, 'retry');
    assert.match((classify(400, hec(14, 'ACK is disabled'), {}) as { reason: string }).reason, /ack: false/);
    assert.equal(classify(400, hec(16, 'Query string authorization is not enabled'), {}).kind, 'retry');
    assert.match(
      (classify(404, hec(404, 'The requested URL was not found on this server.'), {}) as { reason: string }).reason,
      /check endpoint/,
    );
    assert.equal(classify(400, hec(99, 'something new'), {}).kind, 'retry', 'unknown codes never cost records');
  });

  it('data problems name the bad event when HEC does', () => {
    assert.deepEqual(classify(400, hec(6, 'Invalid data format', { 'invalid-event-number': 3 }), {}), {
      kind: 'bad-event',
      reason: 'Splunk HEC HTTP 400 code 6 (Invalid data format)',
      invalidEvent: 3,
    });
    for (const [code, text] of [
      [5, 'No data'],
      [12, 'Event field is required'],
      [13, 'Event field cannot be blank'],
      [15, 'Error in handling indexed fields'],
    ] as const) {
      assert.deepEqual(classify(400, hec(code, text), {}), {
        kind: 'bad-event',
        reason: `Splunk HEC HTTP 400 code ${code} (${text})`,
        invalidEvent: undefined,
      });
    }
    assert.deepEqual(classify(400, hec(7, 'Incorrect index', { 'invalid-event-number': 0 }), {}), {
      kind: 'bad-index',
      reason: 'Splunk HEC HTTP 400 code 7 (Incorrect index)',
    });
    assert.equal(classify(413, 'Content-Length of 5000000 too large (maximum is 1000000)', {}).kind, 'too-large');
  });
});
