/**
 * The SDK against the real sidecar when a request's rejections overflow the 64 KiB partial-success
 * message: what `logBatch` reports must agree with where each record really went (audit file or
 * dead-letter store), and no stored record may be reported as rejected.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  AuditDeliveryError,
  AuditDeliveryUnconfirmedError,
  createAuditClient,
  SecurityEvent,
  type OtlpProtocol,
} from '@otel-audit/sdk';
import { readLines } from '../support/jsonl.js';
import { cleanupAfter } from '../support/cleanup.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/wait.js';

const MAX_VALUE = 100;

const CONFIG = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
      grpc:
        endpoint: 127.0.0.1:0
    limits:
      max_attribute_value_length: ${MAX_VALUE}
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./spool
service:
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`;

/** uuids of the dead letters (records over a limit have none of their own: read it from the record). */
async function deadLetterUuids(file: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const letter of await readLines(file)) {
    const record = (letter['otlp'] as { logRecord: { attributes: { key: string; value: { stringValue?: string } }[] } })
      .logRecord;
    const uid = record.attributes.find((a) => a.key === 'log.record.uid')?.value.stringValue;
    if (uid !== undefined) out.add(uid);
  }
  return out;
}

describe('SDK and sidecar: rejections beyond the message cap', { timeout: 120_000 }, () => {
  let sidecar: SidecarProcess;
  let dir: string;
  const defer = cleanupAfter();

  before(async () => {
    const tmp = await tempDir();
    dir = tmp.dir;
    defer(tmp.cleanup);
    sidecar = await startSidecar({ dir, config: CONFIG });
    defer(() => sidecar.kill());
    defer(async () => assert.equal(await sidecar.stop('SIGTERM'), 0));
  });

  const runs: [OtlpProtocol, string][] = [
    ['http/protobuf', 'otlp/http'],
    ['grpc', 'otlp/grpc'],
  ];
  for (const [protocol, endpointName] of runs) {
    it(`logBatch over ${protocol} reports every record as what it became`, async () => {
      // Over-limit records carry 12 custom details past the limit: one ~850-character line each in
      // the message, so a 512-record request of them runs far past 64 KiB.
      let seed = protocol.length;
      const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const oversized = Object.fromEntries(Array.from({ length: 12 }, (_, k) => [`k${k}`, 'v'.repeat(MAX_VALUE + 50)]));
      const tooLong = new Set<string>();
      const events = Array.from({ length: 3000 }, (_, i) => {
        const big = next() < 0.6;
        const event = new SecurityEvent({ data: `e${i}`, ...(big ? { customDetails: oversized } : {}) });
        if (big) tooLong.add(event.uuid);
        return event;
      });
      const client = createAuditClient({
        protocol,
        endpoint: `http://${sidecar.endpoints[endpointName]!}`,
        logTimeoutMillis: 60_000,
      });
      let failed: Awaited<ReturnType<typeof client.logBatch>>;
      try {
        failed = await client.logBatch(events);
      } finally {
        await client.shutdown();
      }
      const errors = new Map(failed.map((f) => [f.event.uuid, f.error]));

      const deadLetters = await deadLetterUuids(join(dir, 'spool/dead-letter/receiver.jsonl'));
      const stored = () =>
        readLines(join(dir, 'audit.jsonl')).then((lines) => new Set(lines.map((l) => l['message_uuid'] as string)));
      const expected = events.filter((e) => !tooLong.has(e.uuid)).map((e) => e.uuid);
      let written = new Set<string>();
      await until(
        async () => {
          written = await stored();
          return expected.every((u) => written.has(u));
        },
        30_000,
        'the valid records in the audit file',
      );

      let resolved = 0;
      let rejected = 0;
      let unconfirmed = 0;
      for (const event of events) {
        const uuid = event.uuid;
        // Where the record went, as the sidecar's own files say.
        assert.equal(deadLetters.has(uuid), tooLong.has(uuid), `${uuid} dead-lettered`);
        assert.equal(written.has(uuid), !tooLong.has(uuid), `${uuid} in the audit file`);
        const error = errors.get(uuid);
        if (error === undefined) {
          resolved++;
          assert.ok(written.has(uuid), `${uuid} resolved but not stored`);
        } else if (error instanceof AuditDeliveryUnconfirmedError) {
          unconfirmed++;
          assert.equal(error.rejected, false);
        } else {
          rejected++;
          assert.ok(error instanceof AuditDeliveryError && error.rejected, `${uuid}: ${error.message}`);
          assert.ok(deadLetters.has(uuid), `${uuid} reported rejected but it was stored`);
          assert.match(error.message, /a value of 150 characters; at most 100 are accepted/);
        }
      }
      assert.equal(resolved + rejected + unconfirmed, events.length);
      assert.ok(unconfirmed > 0, 'the messages were cut (some records left in doubt)');
      assert.ok(
        rejected > 200 && resolved > 200,
        `${resolved} resolved, ${rejected} rejected, ${unconfirmed} unconfirmed`,
      );
    });
  }
});
