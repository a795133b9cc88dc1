import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { createAuditClient, type OtlpProtocol } from '@otel-audit/sdk';
import {
  attributes,
  anyValue,
  decodeLogsResponse,
  decodeStatus,
  encodeLogsRequest,
  singleRecordRequest,
  type Plain,
} from '../support/otlp-raw.js';
import { cleanupAfter } from '../support/cleanup.js';
import { httpConfig, startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { GOLDEN, TIME, TIME_NANOS } from './golden.js';

interface LocalRecord {
  message_uuid: string;
  time: string;
  category: string;
  tenant: string;
  user: string;
  format_version: string;
  success?: boolean;
  message: Record<string, unknown>;
  resource: Record<string, unknown>;
}

async function readRecords(file: string): Promise<Map<string, LocalRecord>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out = new Map<string, LocalRecord>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as LocalRecord;
    out.set(r.message_uuid, r);
  }
  return out;
}

/** The audit file once it holds every given uuid (the file exporter delivers from the spool asynchronously). */
async function recordsWith(
  file: string,
  uuids: readonly string[],
  timeoutMs = 10_000,
): Promise<Map<string, LocalRecord>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await readRecords(file);
    if (uuids.every((u) => records.has(u)) || Date.now() > deadline) return records;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether the spool's segment files contain the uuid (i.e. the record was stored before the answer). */
async function inSpool(spoolDir: string, uuid: string): Promise<boolean> {
  const dir = join(spoolDir, 'queue');
  for (const name of await readdir(dir)) {
    if (name.endsWith('.seg') && (await readFile(join(dir, name))).includes(uuid)) return true;
  }
  return false;
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const PROTO = { 'Content-Type': 'application/x-protobuf' };
const JSON_CT = { 'Content-Type': 'application/json' };

/** The request as OTLP/JSON, hand-built the way another language's SDK writes it (lowerCamelCase, int64 as strings). */
function jsonRequest(eventName: string, attrs: Record<string, Plain>, body?: Plain): string {
  const request = singleRecordRequest({
    eventName,
    body,
    attributes: attrs,
    timeUnixNano: TIME_NANOS,
    resource: { 'service.name': 'python-app' },
  });
  return JSON.stringify(request, (_key, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
  );
}

describe('end to end: app → OTLP/HTTP → sidecar → audit file', () => {
  let sidecar: SidecarProcess;
  let url: string;
  let auditFile: string;
  const defer = cleanupAfter();

  before(async () => {
    const tmp = await tempDir();
    defer(tmp.cleanup);
    auditFile = join(tmp.dir, 'audit.jsonl');
    sidecar = await startSidecar({
      dir: tmp.dir,
      config: httpConfig({ exporters: '  file:\n    path: ./audit.jsonl', exporterIds: ['file'] }),
    });
    defer(() => sidecar.kill());
    defer(async () => assert.equal(await sidecar.stop('SIGTERM'), 0));
    url = `http://${sidecar.endpoints['otlp/http']!}/v1/logs`;
  });

  function expectGolden(
    records: Map<string, LocalRecord>,
    uuid: string,
    c: (typeof GOLDEN)[number],
    resource?: Record<string, unknown>,
  ) {
    const r = records.get(uuid);
    assert.ok(r, `${c.name}: record ${uuid} is not in the audit file`);
    assert.equal(JSON.stringify(r.message), JSON.stringify(c.sap(uuid)), `${c.name}: SAP body`);
    assert.equal(r.category, c.category);
    assert.equal(r.time, '2026-11-21T10:00:00.123Z');
    assert.equal(r.format_version, '2');
    assert.equal(r.success, c.success);
    if (resource) for (const [k, v] of Object.entries(resource)) assert.equal(r.resource[k], v);
  }

  for (const protocol of ['http/protobuf', 'http/json'] as OtlpProtocol[]) {
    it(`@otel-audit/sdk over ${protocol}: await log() resolves with the exact SAP body already on disk`, async (t) => {
      const client = createAuditClient({
        protocol,
        endpoint: `http://${sidecar.endpoints['otlp/http']!}`,
        resource: { 'service.name': 'billing', 'k8s.pod.name': 'billing-7d9f' },
      });
      t.after(() => client.shutdown());
      for (const c of GOLDEN) {
        const uuid = randomUUID();
        await client.log(c.event(uuid));
        // No waiting: log() resolved, so the record must already be in the durable spool.
        assert.ok(
          await inSpool(join(auditFile, '../spool'), uuid),
          `${c.name}: ${uuid} not in the spool when log() resolved`,
        );
        expectGolden(await recordsWith(auditFile, [uuid]), uuid, c, {
          'service.name': 'billing',
          'k8s.pod.name': 'billing-7d9f',
        });
      }
      await client.shutdown();
    });
  }

  for (const [name, create] of [
    ['http/protobuf', (u: string) => new ProtoExporter({ url: u })],
    ['http/json', (u: string) => new JsonExporter({ url: u })],
  ] as [string, (u: string) => LogRecordExporter][]) {
    it(`the plain OpenTelemetry JS ${name} exporter with flattened attributes`, async (t) => {
      const provider = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': 'plain-otel' }),
        processors: [new BatchLogRecordProcessor({ exporter: create(url) })],
      });
      t.after(() => provider.shutdown());
      const logger = provider.getLogger('audit');
      const uuids = GOLDEN.map(() => randomUUID());
      GOLDEN.forEach((c, i) => {
        logger.emit({
          eventName: c.eventName,
          timestamp: TIME,
          ...(c.body === undefined ? {} : { body: c.body }),
          attributes: c.flattened(uuids[i]!) as never,
        });
      });
      await provider.forceFlush();
      await provider.shutdown();
      const records = await recordsWith(auditFile, uuids);
      GOLDEN.forEach((c, i) => expectGolden(records, uuids[i]!, c, { 'service.name': 'plain-otel' }));
    });
  }

  for (const form of ['flattened', 'structured'] as const) {
    it(`raw OTLP protobuf, ${form} form, as another language's SDK sends it`, async () => {
      for (const c of GOLDEN) {
        const uuid = randomUUID();
        const req = singleRecordRequest({
          eventName: c.eventName,
          body: c.body,
          attributes: c[form](uuid),
          timeUnixNano: TIME_NANOS,
        });
        const res = await post(url, encodeLogsRequest(req), PROTO);
        assert.equal(res.status, 200, res.body.toString());
        assert.deepEqual(decodeLogsResponse(res.body), {});
        expectGolden(await recordsWith(auditFile, [uuid]), uuid, c, { 'service.name': 'java-app' });
      }
    });

    it(`raw OTLP JSON, ${form} form`, async () => {
      for (const c of GOLDEN) {
        const uuid = randomUUID();
        const res = await post(url, jsonRequest(c.eventName, c[form](uuid), c.body), JSON_CT);
        assert.equal(res.status, 200, res.body.toString());
        assert.equal(res.body.toString(), '{}');
        expectGolden(await recordsWith(auditFile, [uuid]), uuid, c, { 'service.name': 'python-app' });
      }
    });
  }

  it('accepts the event.name attribute of older SDKs', async () => {
    const c = GOLDEN[0]!;
    const uuid = randomUUID();
    const req = singleRecordRequest({
      eventName: c.eventName,
      body: c.body,
      attributes: c.flattened(uuid),
      timeUnixNano: TIME_NANOS,
      useEventNameAttribute: true,
    });
    assert.equal((await post(url, encodeLogsRequest(req), PROTO)).status, 200);
    expectGolden(await recordsWith(auditFile, [uuid]), uuid, c);
  });

  it('writes valid records of a mixed batch, reports the rest in partial_success and dead-letters them', async () => {
    const valid = [randomUUID(), randomUUID()];
    const bad = {
      noObjectType: randomUUID(),
      badIp: randomUUID(),
      noAttributes: randomUUID(),
      duplicateNames: randomUUID(),
      noSubject: randomUUID(),
      wrongTypes: randomUUID(),
    };
    const access = GOLDEN[1]!;
    const records: { eventName: string; body?: string; attrs: Record<string, Plain> }[] = [
      { eventName: 'audit.security_event', body: 'ok', attrs: { 'log.record.uid': valid[0]! } },
      {
        eventName: access.eventName,
        attrs: { ...access.flattened(bad.noObjectType), 'audit.object.type': undefined as unknown as Plain },
      },
      {
        eventName: 'audit.security_event',
        body: 'x',
        attrs: { 'log.record.uid': bad.badIp, 'client.address': '10.0.0.300' },
      },
      { eventName: 'http.server.request', body: 'not an audit event', attrs: {} },
      { eventName: access.eventName, attrs: { ...access.flattened(bad.noAttributes), 'audit.attribute.names': [] } },
      {
        eventName: access.eventName,
        attrs: { ...access.flattened(bad.duplicateNames), 'audit.attribute.names': ['a', 'a'] },
      },
      {
        eventName: 'audit.data_modification',
        attrs: {
          'log.record.uid': bad.noSubject,
          'audit.object.type': 'customer',
          'audit.object.id.id': '1',
          'audit.attribute.names': ['email'],
          'audit.attribute.email.new': 'x@example.com',
        },
      },
      {
        eventName: 'audit.security_event',
        body: 'x',
        attrs: { 'log.record.uid': bad.wrongTypes, 'audit.success': 'yes', 'user.id': 42n },
      },
      { eventName: 'audit.security_event', body: 'ok', attrs: { 'log.record.uid': valid[1]! } },
    ];
    const request = {
      resourceLogs: [
        {
          resource: { attributes: attributes({ 'service.name': 'mixed' }) },
          scopeLogs: [
            {
              logRecords: records.map((r) => ({
                timeUnixNano: TIME_NANOS,
                eventName: r.eventName,
                ...(r.body === undefined ? {} : { body: anyValue(r.body) }),
                attributes: attributes(Object.fromEntries(Object.entries(r.attrs).filter(([, v]) => v !== undefined))),
              })),
            },
          ],
        },
      ],
    };
    const res = await post(url, encodeLogsRequest(request), PROTO);
    assert.equal(res.status, 200);
    const partial = decodeLogsResponse(res.body).partialSuccess!;
    assert.equal(partial.rejectedLogRecords, '6');
    const message = partial.errorMessage!;
    assert.match(message, /^6 of 9 log records rejected/);
    assert.match(
      message,
      new RegExp(`record 1 uuid=${bad.noObjectType}: audit.object.type: required for audit.data_access`),
    );
    assert.match(
      message,
      new RegExp(`record 2 uuid=${bad.badIp}: client.address: "10.0.0.300" is not a valid IPv4 or IPv6 address`),
    );
    assert.match(
      message,
      new RegExp(`record 4 uuid=${bad.noAttributes}: audit.attribute.names: at least one attribute is required`),
    );
    assert.match(
      message,
      new RegExp(`record 5 uuid=${bad.duplicateNames}: .*audit.attribute.names\\[1\\]: duplicate attribute name "a"`),
    );
    assert.match(message, new RegExp(`record 6 uuid=${bad.noSubject}: audit.data_subject.type: required`));
    assert.match(
      message,
      new RegExp(
        `record 7 uuid=${bad.wrongTypes}: audit.success: must be a bool, got string; user.id: must be a string, got int`,
      ),
    );

    const written = await recordsWith(auditFile, valid);
    for (const u of valid) assert.ok(written.has(u), `valid record ${u} written`);
    for (const u of Object.values(bad)) assert.ok(!written.has(u), `invalid record ${u} not written`);

    const letters = (await readFile(join(auditFile, '../spool/dead-letter/receiver.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            uuid: string;
            exporter: string;
            reason: string;
            time: string;
            otlp: { logRecord: { eventName: string } };
          },
      );
    for (const u of Object.values(bad)) {
      const letter = letters.find((l) => l.uuid === u);
      assert.ok(letter, `dead letter for ${u}`);
      assert.equal(letter.exporter, 'receiver');
      assert.ok(letter.reason.length > 0);
      assert.ok(!Number.isNaN(Date.parse(letter.time)));
      assert.ok(letter.otlp.logRecord.eventName.startsWith('audit.'));
    }
  });

  it('answers malformed, mistyped, oversized and bomb requests correctly and keeps serving', async () => {
    const malformedProto = await post(url, Buffer.from([0x0a, 0x05, 0x12, 0x10, 0x00]), PROTO);
    assert.equal(malformedProto.status, 400);
    assert.equal(decodeStatus(malformedProto.body).code, 3);

    const malformedJson = await post(url, '{"resourceLogs":[{', JSON_CT);
    assert.equal(malformedJson.status, 400);
    assert.match((JSON.parse(malformedJson.body.toString()) as { message: string }).message, /^invalid JSON/);

    assert.equal((await post(url, 'x', { 'Content-Type': 'text/plain' })).status, 415);
    assert.equal((await post(url, 'x', {})).status, 415);

    const oversized = await post(url, Buffer.alloc(21 * 1024 * 1024, 0x20), JSON_CT);
    assert.equal(oversized.status, 413);

    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x20));
    const bombed = await post(url, bomb, { ...JSON_CT, 'Content-Encoding': 'gzip' });
    assert.equal(bombed.status, 413);

    const c = GOLDEN[0]!;
    const uuid = randomUUID();
    const ok = await post(
      url,
      encodeLogsRequest(
        singleRecordRequest({
          eventName: c.eventName,
          body: c.body,
          attributes: c.flattened(uuid),
          timeUnixNano: TIME_NANOS,
        }),
      ),
      PROTO,
    );
    assert.equal(ok.status, 200);
    expectGolden(await recordsWith(auditFile, [uuid]), uuid, c);
  });
});
