import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnyValue } from '@otel-audit/semconv';
import { DeadLetterStore } from '../../src/deadletter/dead-letter-store.js';
import type { AuditRecord } from '../../src/model/audit-record.js';
import { localRecordJson } from '../../src/model/local-record.js';
import { newLogRecord, type LogRecord, type LogsRequest } from '../../src/model/otlp-logs.js';
import { formatRejectionMessage as formatRejections } from '@otel-audit/semconv';
import { AuditPipeline } from '../../src/pipeline/pipeline.js';
import { readJsonLines } from '../helpers.js';

function record(fields: Partial<LogRecord>, attributes: Record<string, AnyValue> = {}): LogRecord {
  const r = newLogRecord();
  Object.assign(r, fields);
  for (const [key, value] of Object.entries(attributes)) r.attributes.push({ key, value });
  return r;
}

function request(
  records: LogRecord[],
  resource: Record<string, AnyValue> = { 'service.name': 'billing' },
): LogsRequest {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: Object.entries(resource).map(([key, value]) => ({ key, value })),
          droppedAttributesCount: 0,
        },
        scopeLogs: [{ scope: undefined, logRecords: records, schemaUrl: '' }],
        schemaUrl: '',
      },
    ],
  };
}

const UUID = '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11';

describe('audit pipeline', () => {
  let dir: string;
  let written: AuditRecord[];
  let pipeline: AuditPipeline;
  let deadLetters: DeadLetterStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-pipeline-'));
    written = [];
    deadLetters = new DeadLetterStore(join(dir, 'dead-letter'));
    pipeline = new AuditPipeline({ write: async (records) => void written.push(...records) }, deadLetters);
  });
  after(async () => {
    await deadLetters.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('maps audit records, ignores other records and rejects invalid ones', async () => {
    written.length = 0;
    const result = await pipeline.process(
      request([
        record(
          { eventName: 'audit.security_event', body: 'login', timeUnixNano: 1763719200123999999n },
          { 'log.record.uid': UUID },
        ),
        record({ eventName: 'http.request', body: 'GET /' }),
        record({ body: 'plain log line' }),
        record(
          { eventName: 'audit.security_event', body: 'x' },
          { 'client.address': 'not-an-ip', 'log.record.uid': UUID.replace('0b', '1b') },
        ),
      ]),
    );
    assert.equal(result.received, 4);
    assert.equal(result.accepted, 1);
    assert.equal(result.ignored, 2);
    assert.equal(result.rejected.length, 1);
    assert.equal(result.rejected[0]!.index, 3);
    assert.equal(
      formatRejections(result),
      `1 of 4 log records rejected\nrecord 3 uuid=1b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11: client.address: "not-an-ip" is not a valid IPv4 or IPv6 address`,
    );
    const json = localRecordJson(written[0]!);
    const local = JSON.parse(json) as unknown;
    assert.deepEqual(local, {
      message_uuid: UUID,
      time: '2025-11-21T10:00:00.123Z',
      category: 'audit.security-events',
      tenant: '$PROVIDER',
      user: '$USER',
      format_version: '2',
      message: { uuid: UUID, user: '$USER', time: '2025-11-21T10:00:00.123Z', tenant: '$PROVIDER', data: 'login' },
      resource: { 'service.name': 'billing' },
    });
    // The local record's documented field order.
    assert.deepEqual(Object.keys(local as object), [
      'message_uuid',
      'time',
      'category',
      'tenant',
      'user',
      'format_version',
      'message',
      'resource',
    ]);
    assert.equal(json, JSON.stringify(local));
    const letters = await readJsonLines(join(dir, 'dead-letter/receiver.jsonl'));
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!['exporter'], 'receiver');
    assert.equal(letters[0]!['event_name'], 'audit.security_event');
    assert.equal(letters[0]!['reason'], 'client.address: "not-an-ip" is not a valid IPv4 or IPv6 address');
    assert.deepEqual((letters[0]!['otlp'] as { logRecord: unknown }).logRecord, {
      eventName: 'audit.security_event',
      body: { stringValue: 'x' },
      attributes: [
        { key: 'client.address', value: { stringValue: 'not-an-ip' } },
        { key: 'log.record.uid', value: { stringValue: '1b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11' } },
      ],
    });
  });

  it('takes the time from time_unix_nano, then observed time, then the receive time', async () => {
    written.length = 0;
    await pipeline.process(
      request([
        record({
          eventName: 'audit.security_event',
          body: 'a',
          timeUnixNano: 1000000000n,
          observedTimeUnixNano: 2000000000n,
        }),
        record({ eventName: 'audit.security_event', body: 'b', observedTimeUnixNano: 2000000000n }),
        record({ eventName: 'audit.security_event', body: 'c' }),
      ]),
      undefined,
      Date.UTC(2026, 10, 21, 12, 0, 0, 7),
    );
    assert.deepEqual(
      written.map((r) => r.time),
      ['1970-01-01T00:00:01.000Z', '1970-01-01T00:00:02.000Z', '2026-11-21T12:00:00.007Z'],
    );
  });

  it('reads the event name from the event.name attribute of older SDKs', async () => {
    written.length = 0;
    const result = await pipeline.process(
      request([record({ body: 'old sdk' }, { 'event.name': 'audit.security_event' })]),
    );
    assert.equal(result.accepted, 1);
    assert.equal(written[0]!.eventName, 'audit.security_event');
  });

  it('derives the same uuid for the same record sent twice, and another for a different one', async () => {
    written.length = 0;
    const r = () => record({ eventName: 'audit.security_event', body: 'no uid', timeUnixNano: 5n }, { 'user.id': 'a' });
    await pipeline.process(request([r()]));
    await pipeline.process(request([r()], { 'service.name': 'restarted', 'process.pid': 42n }));
    await pipeline.process(
      request([record({ eventName: 'audit.security_event', body: 'no uid', timeUnixNano: 6n }, { 'user.id': 'a' })]),
    );
    const [a, b, c] = written.map((x) => x.uuid);
    assert.match(a!, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  it('collects Splunk metadata, record attributes over resource attributes', async () => {
    written.length = 0;
    await pipeline.process(
      request(
        [
          record(
            { eventName: 'audit.security_event', body: 'x' },
            { 'com.splunk.index': 'audit_eu', 'host.name': 'pod-1' },
          ),
        ],
        { 'com.splunk.index': 'audit', 'com.splunk.sourcetype': 'otel:audit', 'host.name': 'node-1' },
      ),
    );
    assert.deepEqual(written[0]!.splunk, { index: 'audit_eu', sourcetype: 'otel:audit', host: 'pod-1' });
  });

  it('rejects a record whose Splunk metadata is too long to be stored, and keeps the others', async () => {
    written.length = 0;
    const result = await pipeline.process(
      request([
        record({ eventName: 'audit.security_event', body: 'x' }, { 'host.name': 'h'.repeat(70_000) }),
        record({ eventName: 'audit.security_event', body: 'y' }, { 'com.splunk.source': '€'.repeat(400) }),
        record({ eventName: 'audit.security_event', body: 'ok' }, { 'host.name': 'h'.repeat(1024) }),
      ]),
      // Values allowed by a receiver with a larger max_attribute_value_length: the metadata check still applies.
      { maxAttributes: 512, maxValueLength: 100_000 },
    );
    assert.equal(result.accepted, 1);
    assert.equal((written[0]!.message as { data?: string }).data, 'ok');
    assert.deepEqual(
      result.rejected.map((r) => [r.index, r.issues.map((i) => `${i.field}: ${i.message}`)]),
      [
        [0, ['host.name: is longer than 1024 bytes']],
        [1, ['com.splunk.source: is longer than 1024 bytes']],
      ],
    );
  });

  it('caps the partial-success message', () => {
    const rejected = Array.from({ length: 5000 }, (_, i) => ({
      index: i,
      uuid: UUID,
      issues: [{ field: 'audit.object.type', message: 'required for audit.data_access' }],
    }));
    const message = formatRejections({ received: 5000, rejected });
    assert.ok(message.length <= 64 * 1024 + 100);
    assert.match(message, /\.\.\. and \d+ more \(see the dead-letter store\)$/);
  });

  it('fails (and keeps nothing half-done from the caller’s view) when the sink fails', async () => {
    const failing = new AuditPipeline({ write: () => Promise.reject(new Error('disk full')) }, deadLetters);
    await assert.rejects(
      failing.process(request([record({ eventName: 'audit.security_event', body: 'x' })])),
      /disk full/,
    );
  });

  it('rejects records over the per-record limits, naming the limit', async () => {
    written.length = 0;
    const many: Record<string, AnyValue> = {};
    for (let i = 0; i < 20; i++) many[`x.${i}`] = 'v';
    const result = await pipeline.process(
      request([
        record({ eventName: 'audit.security_event', body: 'x' }, many),
        record({ eventName: 'audit.security_event', body: 'y'.repeat(300) }),
        record({ eventName: 'audit.security_event', body: 'ok' }),
      ]),
      { maxAttributes: 10, maxValueLength: 100 },
    );
    assert.equal(result.accepted, 1);
    assert.deepEqual(
      result.rejected.map((r) => r.issues.map((i) => `${i.field}: ${i.message}`)),
      [
        ['attributes: 20 attributes; at most 10 are accepted'],
        ['body: a value of 300 characters; at most 100 are accepted'],
      ],
    );
  });
});
