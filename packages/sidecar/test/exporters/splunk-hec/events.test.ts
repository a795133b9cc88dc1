import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeEvents,
  EventBuilder,
  fieldProblem,
  hecTime,
  planRequests,
  type HecEvent,
} from '../../../src/exporters/splunk-hec/events.js';
import { parseConcatenated, spooledRecord } from './records.js';

describe('splunk_hec events', () => {
  it('formats time as epoch seconds with milliseconds', () => {
    assert.equal(hecTime(Date.UTC(2025, 10, 21, 10, 0, 0, 123)), '1763719200.123');
    assert.equal(hecTime(1763719200005), '1763719200.005');
    assert.equal(hecTime(1763719200050), '1763719200.050');
    assert.equal(hecTime(1763719200000), '1763719200.000');
    assert.equal(hecTime(999), '0.999');
    assert.equal(hecTime(0), '0.000');
    assert.equal(hecTime(-1), '-0.001');
    assert.equal(hecTime(-1500), '-1.500');
    // The text is a JSON number that parses back to the same milliseconds.
    assert.equal(Math.round(Number(hecTime(1763719200123)) * 1000), 1763719200123);
  });

  it('splices the local record bytes in as event, in HEC key order, without re-serializing', () => {
    const r = spooledRecord({ success: false });
    // Unusual but valid JSON spacing survives byte for byte: nothing parses and re-encodes the record.
    const spaced = Buffer.from(r.json.replace('"format_version":"2"', '"format_version" : "2"'));
    const record = { ...r, jsonBytes: spaced, json: spaced.toString() };
    const builder = new EventBuilder(
      { host: 'node-1', source: 'otel-audit', sourcetype: 'otel:audit', index: 'audit' },
      ['category'],
    );
    const e = builder.build(record, 0);
    const body = encodeEvents([e]);
    assert.equal(body.length, e.size);
    const text = body.toString();
    assert.ok(
      text.startsWith(
        '{"time":1763719200.123,"host":"node-1","source":"otel-audit","sourcetype":"otel:audit","index":"audit","event":{',
      ),
      text.slice(0, 160),
    );
    assert.ok(body.includes(spaced), 'the spool bytes are in the body unchanged');
    assert.ok(text.endsWith(`${spaced.toString()},"fields":{"category":"audit.security-events"}}`));
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['time', 'host', 'source', 'sourcetype', 'index', 'event', 'fields']);
    assert.deepEqual(parsed['event'], JSON.parse(r.json));
  });

  it('takes host, source, sourcetype and index from the record over the config, and omits unset ones', () => {
    const builder = new EventBuilder({ source: 'otel-audit', sourcetype: 'otel:audit', index: 'audit' }, []);
    const plain = builder.build(spooledRecord(), 0);
    const own = builder.build(spooledRecord({ splunk: { index: 'audit_eu', host: 'pod-1', sourcetype: 'x:y' } }), 1);
    const blank = builder.build(spooledRecord({ splunk: { index: '', source: '' } }), 2);
    const [a, b, c] = parseConcatenated(encodeEvents([plain, own, blank]).toString());
    assert.deepEqual(
      { ...a, event: undefined },
      { time: 1763719200.123, source: 'otel-audit', sourcetype: 'otel:audit', index: 'audit', event: undefined },
    );
    assert.equal(a!['host'], undefined, 'no host configured or on the record: HEC picks it');
    assert.deepEqual(
      [b!['host'], b!['source'], b!['sourcetype'], b!['index']],
      ['pod-1', 'otel-audit', 'x:y', 'audit_eu'],
    );
    assert.deepEqual([c!['source'], c!['index']], ['otel-audit', 'audit'], 'empty attribute values count as absent');
    assert.deepEqual(
      [plain.index, plain.ownIndex, own.index, own.ownIndex, blank.ownIndex],
      ['audit', false, 'audit_eu', true, false],
    );
    const none = new EventBuilder({}, []).build(spooledRecord(), 0);
    assert.equal(none.index, undefined);
    assert.ok(encodeEvents([none]).toString().startsWith('{"time":1763719200.123,"event":{'));
  });

  it('sends the configured indexed fields from the local record', () => {
    const builder = new EventBuilder({}, [
      'category',
      'tenant',
      'user',
      'event_name',
      'success',
      'message_uuid',
      'resource.service.name',
      'resource.missing',
      'message.ip',
      'message.customDetails.request.id',
      'message.attributes',
    ]);
    const r = spooledRecord({ success: false, user: 'jane "q" \\ doe' });
    const [e] = parseConcatenated(encodeEvents([builder.build(r, 0)]).toString());
    assert.deepEqual(e!['fields'], {
      category: 'audit.security-events',
      tenant: '$PROVIDER',
      user: 'jane "q" \\ doe',
      event_name: 'audit.security_event',
      success: 'false',
      message_uuid: r.uuid,
      'resource.service.name': 'billing',
      'message.ip': '10.0.0.1',
      'message.customDetails.request.id': 'r-1',
      'message.attributes': '[{"name":"login.method","value":"password"}]',
    });
    // Fields from the head of the record only: the message is not parsed, and tricky text in it changes nothing.
    const headOnly = new EventBuilder({}, ['user', 'success', 'event_name']);
    const tricky = spooledRecord({ data: 'x,"message":{"user":"mallory"}', user: 'u,"message":1' });
    const [h] = parseConcatenated(encodeEvents([headOnly.build(tricky, 0)]).toString());
    assert.deepEqual(h!['fields'], { user: 'u,"message":1', event_name: 'audit.security_event' });
    // No fields configured, or none present: no `fields` key at all.
    const [n] = parseConcatenated(encodeEvents([new EventBuilder({}, ['resource.nope']).build(r, 0)]).toString());
    assert.equal(n!['fields'], undefined);
  });

  it('names the fields it knows', () => {
    for (const ok of ['event_name', 'category', 'tenant', 'user', 'success', 'resource.k8s.pod.name', 'message.ip']) {
      assert.equal(fieldProblem(ok), undefined, ok);
    }
    for (const bad of ['resource.', 'tenants', 'message', 'foo']) assert.match(fieldProblem(bad)!, /unknown field/);
  });

  it('splits requests under max_content_length, in order, never mixing indexes', () => {
    const builder = new EventBuilder({ index: 'audit' }, []);
    const records = Array.from({ length: 40 }, (_, i) =>
      spooledRecord({ seq: i, splunk: i % 4 === 3 ? { index: 'audit_eu' } : {} }),
    );
    const events = records.map((r, i) => builder.build(r, i));
    const size = events[0]!.size;
    const max = size * 5 + 20; // audit_eu events are 3 bytes longer
    const { requests, tooLarge } = planRequests(events, max);
    assert.equal(tooLarge.length, 0);
    const positions = (r: HecEvent[]) => r.map((e) => e.position);
    for (const r of requests) {
      assert.ok(encodeEvents(r).length <= max, 'each request fits');
      assert.equal(new Set(r.map((e) => e.index)).size, 1, 'one index per request');
      const p = positions(r);
      assert.deepEqual(
        p,
        [...p].sort((x, y) => x - y),
        'in order',
      );
    }
    assert.deepEqual(
      requests.map((r) => r.length),
      [5, 5, 5, 5, 5, 5, 5, 5],
    );
    assert.deepEqual(
      requests.flatMap(positions).sort((x, y) => x - y),
      events.map((e) => e.position),
    );

    const big = builder.build(spooledRecord({ data: 'x'.repeat(2000) }), 40);
    const split = planRequests([events[0]!, big, events[1]!], 1500);
    assert.deepEqual(
      split.tooLarge.map((e) => e.position),
      [40],
    );
    assert.deepEqual(split.requests.map(positions), [[0, 1]]);
  });
});
