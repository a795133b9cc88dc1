import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { formatIssues } from '@otel-audit/semconv';
import {
  AuditDeliveryError,
  AuditDeliveryUnconfirmedError,
  AuditLogError,
  AuditValidationError,
  createAuditClient,
  SecurityEvent,
  type AuditClient,
} from '../src/index.js';
import { FakeOtlpServer, ok, partial, partialWhere, status } from './fake-otlp-server.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('audit client against an OTLP endpoint', { timeout: 60_000 }, () => {
  let server: FakeOtlpServer;
  let endpoint: string;
  let client: AuditClient;

  beforeEach(async () => {
    server = new FakeOtlpServer();
    endpoint = await server.listen();
    client = createAuditClient({ endpoint, protocol: 'http/json', logTimeoutMillis: 5000 });
  });
  afterEach(async () => {
    await client.shutdown();
    await server.close();
  });

  it('log() resolves once the endpoint answers 200 and sends the event as an OTLP record', async () => {
    const event = new SecurityEvent({ data: 'login', ip: '10.0.0.1' });
    await client.log(event);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(server.requests[0]!.uuids, [event.uuid]);
    const body = JSON.parse(server.requests[0]!.body.toString()) as {
      resourceLogs: {
        resource: { attributes: { key: string }[] };
        scopeLogs: { scope: { name: string }; logRecords: { eventName: string }[] }[];
      }[];
    };
    const rl = body.resourceLogs[0]!;
    assert.equal(rl.scopeLogs[0]!.scope.name, '@otel-audit/sdk');
    assert.equal(rl.scopeLogs[0]!.logRecords[0]!.eventName, 'audit.security_event');
    assert.ok(rl.resource.attributes.some((a) => a.key === 'service.name'));
  });

  it('sends concurrent log() calls together', async () => {
    await Promise.all(Array.from({ length: 300 }, (_, i) => client.log(new SecurityEvent({ data: `e${i}` }))));
    const sent = server.requests.reduce((n, r) => n + r.uuids.length, 0);
    assert.equal(sent, 300);
    assert.ok(server.requests.length <= 4, `${server.requests.length} requests`);
  });

  it('rejects exactly the records the sidecar names in partial_success', async () => {
    const good = new SecurityEvent({ data: 'good' });
    const bad = new SecurityEvent({ data: 'bad' });
    server.responders = [partial([bad.uuid])];
    const [g, b] = await Promise.allSettled([client.log(good), client.log(bad)]);
    assert.equal(g.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    const err = b.reason as AuditDeliveryError;
    assert.ok(err instanceof AuditDeliveryError);
    assert.equal(err.rejected, true);
    assert.match(err.message, new RegExp(`rejected audit record ${bad.uuid}: audit.object.type: required`));
  });

  it('treats an unattributable partial rejection as a failure for every record', async () => {
    server.responders = [partial(['x'], 'some records were dropped')];
    const results = await Promise.allSettled([
      client.log(new SecurityEvent({ data: 'a' })),
      client.log(new SecurityEvent({ data: 'b' })),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });

  it('names no accepted record as rejected when the rejections overflow the 64 KiB message', async () => {
    // 4000 events, about 60% of them refused with long reasons: each 512-record request gets a cut message.
    let seed = 3;
    const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const events = Array.from({ length: 4000 }, (_, i) => new SecurityEvent({ data: `e${i}` }));
    const invalid = new Set(events.filter(() => next() < 0.6).map((e) => e.uuid));
    const issues = [{ field: 'audit.custom.note', message: `"${'n'.repeat(300)}" is not accepted here` }];
    const messages: string[] = [];
    server.responders = [partialWhere((uuid) => (invalid.has(uuid) ? issues : undefined), messages)];

    const failed = await client.logBatch(events);

    assert.equal(server.requests.length, 8);
    assert.ok(
      messages.every((m) => /\n\.\.\. and \d+ more \(see the dead-letter store\)$/.test(m) && m.length < 66_000),
      'every response message was cut at the cap',
    );
    const errors = new Map(failed.map((f) => [f.event.uuid, f.error]));
    let named = 0;
    for (const event of events) {
      const error = errors.get(event.uuid);
      if (!invalid.has(event.uuid)) {
        // Accepted by the endpoint: resolved, or (after a cut) unconfirmed, but never "rejected".
        if (error === undefined) continue;
        assert.ok(error instanceof AuditDeliveryUnconfirmedError, `${event.uuid}: ${error.message}`);
        assert.equal(error.rejected, false);
        assert.equal(error.uuid, event.uuid);
        continue;
      }
      assert.ok(error instanceof AuditDeliveryError, `invalid ${event.uuid} was reported as accepted`);
      if (error.rejected) {
        named++;
        assert.equal(error.message, `the sidecar rejected audit record ${event.uuid}: ${formatIssues(issues)}`);
      } else assert.ok(error instanceof AuditDeliveryUnconfirmedError);
    }
    // What the messages name is reported as such, and every accepted record before the cut resolves.
    const namedInMessages = messages.reduce((n, m) => n + (m.match(/^record /gm)?.length ?? 0), 0);
    assert.equal(named, namedInMessages);
    server.requests.forEach((req, k) => {
      const lastNamed = Number([...messages[k]!.matchAll(/^record (\d+) /gm)].at(-1)![1]);
      assert.ok(lastNamed > 100, `request ${k}: last record named ${lastNamed}`);
      for (const uuid of req.uuids.slice(0, lastNamed)) {
        if (!invalid.has(uuid)) assert.equal(errors.get(uuid), undefined, `${uuid} before the cut was not resolved`);
      }
    });
    const resolved = events.length - failed.length;
    assert.ok(resolved > 500, `${resolved} resolved`);
  });

  it('log(): rejects a record the count proves rejected, and one it leaves in doubt as unconfirmed', async () => {
    const events = Array.from({ length: 3 }, (_, i) => new SecurityEvent({ data: `e${i}` }));
    const [first, second, third] = events.map((e) => e.uuid) as [string, string, string];
    // The first line alone is over the cap: the message names nobody ("... and 2 more"). Lines are
    // at most about 8 KiB since issues are capped, so a smaller cap makes this case.
    const long = [{ field: 'audit.custom.note', message: 'x'.repeat(400) }];
    const cap = 300;
    server.responders = [partialWhere((uuid) => (uuid === second ? undefined : long), [], cap)];
    const results = await Promise.allSettled(events.map((e) => client.log(e)));
    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as AuditDeliveryError) : undefined));
    for (const r of reasons) assert.ok(r instanceof AuditDeliveryUnconfirmedError && !r.rejected);
    assert.match(reasons[0]!.message, /rejected 2 of 3 records without naming them all; audit record \S+ is either/);
    assert.deepEqual(
      reasons.map((r) => (r as AuditDeliveryUnconfirmedError).uuid),
      [first, second, third],
    );

    server.responders = [partialWhere(() => long, [], cap)];
    await assert.rejects(client.log(new SecurityEvent({ data: 'alone' })), (e: unknown) => {
      assert.ok(e instanceof AuditDeliveryError && !(e instanceof AuditDeliveryUnconfirmedError));
      assert.equal(e.rejected, true);
      assert.match(e.message, /rejected audit record \S+ without naming it in its response/);
      return true;
    });
  });

  it('retries 503 honouring Retry-After, then resolves', async () => {
    server.responders = [status(503, 'busy', { 'Retry-After': '1' }), ok];
    const t0 = Date.now();
    await client.log(new SecurityEvent({ data: 'x' }));
    assert.ok(Date.now() - t0 >= 950, `resolved after ${Date.now() - t0} ms`);
    assert.equal(server.requests.length, 2);
  });

  it('fails at once on a non-retryable status, with the server’s message', async () => {
    server.responders = [status(400, 'resourceLogs[0]: expected an object')];
    await assert.rejects(client.log(new SecurityEvent({ data: 'x' })), (e: unknown) => {
      assert.ok(e instanceof AuditDeliveryError);
      assert.match(e.message, /HTTP 400: resourceLogs\[0\]: expected an object/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  it('gives up at the deadline when the endpoint stays unavailable', async (t) => {
    const impatient = createAuditClient({ endpoint, protocol: 'http/json', logTimeoutMillis: 400 });
    t.after(() => impatient.shutdown());
    server.responders = [status(503, 'busy')];
    await assert.rejects(impatient.log(new SecurityEvent({ data: 'x' })), /not accepted within 400 ms/);
    await impatient.shutdown();
  });

  it('waits for a sidecar that is not up yet (connection refused is retried)', async (t) => {
    const port = await freePort();
    const early = createAuditClient({
      endpoint: `http://127.0.0.1:${port}`,
      protocol: 'http/json',
      logTimeoutMillis: 10000,
    });
    const late = new FakeOtlpServer();
    t.after(async () => {
      await early.shutdown();
      await late.close();
    });
    const pending = early.log(new SecurityEvent({ data: 'x' }));
    await new Promise((r) => setTimeout(r, 300));
    await late.listen(port);
    await pending;
    assert.equal(late.requests.length, 1);
    await early.shutdown();
    await late.close();
  });

  it('validates before sending', async () => {
    await assert.rejects(client.log(new SecurityEvent({ data: '' })), AuditValidationError);
    assert.throws(() => client.emit(new SecurityEvent({ data: 'x', ip: 'nope' })), AuditValidationError);
    assert.equal(server.requests.length, 0);
  });

  it('logBatch returns the failed events and delivers the rest', async () => {
    const events = [
      new SecurityEvent({ data: 'a' }),
      new SecurityEvent({ data: '' }),
      new SecurityEvent({ data: 'c' }),
    ];
    server.responders = [partial([events[2]!.uuid])];
    const failed = await client.logBatch(events);
    assert.deepEqual(
      failed.map((f) => [f.event, f.error.constructor.name]),
      [
        [events[1], 'AuditValidationError'],
        [events[2], 'AuditDeliveryError'],
      ],
    );
  });

  it('emit() goes through the batch pipeline and arrives on flush()', async () => {
    const event = new SecurityEvent({ data: 'fire and forget' });
    client.emit(event);
    await client.flush();
    assert.deepEqual(
      server.requests.flatMap((r) => r.uuids),
      [event.uuid],
    );
  });

  it('refuses work after shutdown', async () => {
    await client.shutdown();
    await assert.rejects(client.log(new SecurityEvent({ data: 'x' })), AuditLogError);
    assert.throws(() => client.emit(new SecurityEvent({ data: 'x' })), AuditLogError);
  });
});

describe('audit client with the application’s LoggerProvider', { timeout: 10_000 }, () => {
  it('emits through the app’s provider', async (t) => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    const client = createAuditClient({ loggerProvider: provider, endpoint: 'http://127.0.0.1:9' });
    t.after(async () => {
      await client.shutdown();
      await provider.shutdown();
    });
    const event = new SecurityEvent({ data: 'via app provider' });
    client.emit(event);
    await client.flush();
    const records = exporter.getFinishedLogRecords();
    assert.equal(records.length, 1);
    assert.equal(records[0]!.eventName, 'audit.security_event');
    assert.equal(records[0]!.attributes['log.record.uid'], event.uuid);
    await client.shutdown();
    await provider.shutdown();
  });
});
