/**
 * Property-based fuzzing of both receivers for a bounded time: random bytes, random JSON, and
 * mutations of valid requests thrown at OTLP/HTTP (protobuf and JSON) and OTLP/gRPC. The sidecar
 * must not crash or hang, must keep its memory bounded, must answer every request with a status a
 * client can act on, and must deliver the valid audit records of every request it accepts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { cleanupAfter } from '../support/cleanup.js';
import { exportRaw, rawLogsClient, type RawLogsClient } from '../support/otlp-grpc-raw.js';
import { anyValue, attributes, encodeLogsRequest } from '../support/otlp-raw.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { rssMiB } from './helpers.js';

const BUDGET_MS = Number(process.env['FUZZ_BUDGET_MS'] ?? 12_000);

function post(endpoint: string, body: Buffer | string, contentType: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `http://${endpoint}/v1/logs`,
      { method: 'POST', headers: { 'Content-Type': contentType }, timeout: 5000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('the receiver hung')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A request of valid and invalid audit records; returns it with the uuids of the valid ones. */
const requestArb = fc
  .array(
    fc.record({
      valid: fc.boolean(),
      data: fc.string({ maxLength: 40 }),
      extra: fc.dictionary(
        fc.oneof(
          fc.constantFrom('audit.success', 'client.address', 'user.id', 'x.other'),
          fc.string({ maxLength: 12 }),
        ),
        fc.oneof(fc.string({ maxLength: 20 }), fc.boolean(), fc.integer()),
      ),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((records) => {
    const valid: string[] = [];
    const logRecords = records.map((r) => {
      const uuid = randomUUID();
      let attrs: Record<string, unknown>;
      if (r.valid) {
        valid.push(uuid);
        attrs = { 'log.record.uid': uuid, 'user.id': 'fuzz', 'client.address': '10.0.0.1', 'audit.success': true };
      } else {
        attrs = { ...r.extra, 'log.record.uid': uuid };
      }
      return {
        eventName: 'audit.security_event',
        body: anyValue(r.valid ? `valid ${r.data}` : r.data),
        attributes: attributes(attrs as never),
      };
    });
    return { body: encodeLogsRequest({ resourceLogs: [{ scopeLogs: [{ logRecords }] }] }), valid, logRecords };
  });

/** Byte-level mutations of a valid request: flips, truncation, insertions, duplicated slices. */
const mutationArb = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.nat(64) }),
  ),
  { minLength: 1, maxLength: 4 },
);

type Mutation = { kind: string; at: number; value?: number; bytes?: Uint8Array; length?: number };

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] = m.value!;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes!), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at + (m.length ?? 0)), b.subarray(at)]);
  }
  return b;
}

describe('fault: fuzzing the receivers', () => {
  let sidecar: SidecarProcess;
  let dir: string;
  let grpcClient: RawLogsClient;
  const defer = cleanupAfter();

  before(async () => {
    const tmp = await tempDir();
    dir = tmp.dir;
    defer(tmp.cleanup);
    sidecar = await startSidecar({
      dir,
      config: `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        max_request_body_size: 1048576
      grpc:
        endpoint: 127.0.0.1:0
        max_request_body_size: 1048576
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./storage
service:
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`,
    });
    defer(() => sidecar.kill());
    defer(async () => assert.equal(await sidecar.stop(), 0, 'the sidecar survived and shut down cleanly'));
    grpcClient = rawLogsClient(sidecar.endpoints['otlp/grpc']!);
    defer(() => grpcClient.close());
  });

  const grpcCall = async (body: Buffer): Promise<grpc.status> => {
    const { err } = await exportRaw(grpcClient, body, 5000);
    return err ? err.code : grpc.status.OK;
  };

  const alive = () =>
    assert.equal(sidecar.child.exitCode, null, `the sidecar died:\n${sidecar.output.slice(-20).join('\n')}`);
  const acceptable = new Set([200, 400, 413, 415]);
  const grpcAcceptable = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED]);

  it(
    'survives random and mutated input, stays small, and delivers every valid record it accepts',
    { timeout: BUDGET_MS * 4 + 60_000 },
    async (t) => {
      const http = sidecar.endpoints['otlp/http']!;
      const expected: string[] = [];
      let requests = 0;
      const rss: number[] = [await rssMiB(sidecar.child.pid!)];
      const deadline = Date.now() + BUDGET_MS;
      let seed = 42;
      const properties: (() => Promise<void>)[] = [
        // Structured requests mixing valid and invalid records, over each transport.
        () =>
          fc.assert(
            fc.asyncProperty(requestArb, fc.constantFrom('proto', 'json', 'grpc'), async (r, transport) => {
              requests++;
              if (transport === 'grpc') assert.equal(await grpcCall(r.body), grpc.status.OK);
              else if (transport === 'proto') assert.equal(await post(http, r.body, 'application/x-protobuf'), 200);
              else {
                const json = JSON.stringify(
                  { resourceLogs: [{ scopeLogs: [{ logRecords: r.logRecords }] }] },
                  (_k, v: unknown) =>
                    typeof v === 'bigint'
                      ? v.toString()
                      : v instanceof Uint8Array
                        ? Buffer.from(v).toString('base64')
                        : v,
                );
                assert.equal(await post(http, json, 'application/json'), 200);
              }
              expected.push(...r.valid);
            }),
            { numRuns: 40, seed: seed++ },
          ),
        // Mutated valid requests: any answer a client can act on, never a crash or a hang.
        () =>
          fc.assert(
            fc.asyncProperty(requestArb, mutationArb, fc.boolean(), async (r, mutations, viaGrpc) => {
              requests++;
              const body = mutate(r.body, mutations);
              if (viaGrpc) assert.ok(grpcAcceptable.has(await grpcCall(body)));
              else assert.ok(acceptable.has(await post(http, body, 'application/x-protobuf')));
            }),
            { numRuns: 40, seed: seed++ },
          ),
        // Random bytes and random JSON.
        () =>
          fc.assert(
            fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.jsonValue(), async (bytes, json) => {
              requests += 3;
              assert.ok(acceptable.has(await post(http, Buffer.from(bytes), 'application/x-protobuf')));
              assert.ok(acceptable.has(await post(http, JSON.stringify(json), 'application/json')));
              assert.ok(grpcAcceptable.has(await grpcCall(Buffer.from(bytes))));
            }),
            { numRuns: 40, seed: seed++ },
          ),
      ];
      for (let round = 0; Date.now() < deadline; round++) {
        await properties[round % properties.length]!();
        alive();
        if (round % 6 === 5) rss.push(await rssMiB(sidecar.child.pid!));
      }
      rss.push(await rssMiB(sidecar.child.pid!));

      const auditFile = join(dir, 'audit.jsonl');
      const waitUntil = Date.now() + 20_000;
      let written = new Set<string>();
      while (Date.now() < waitUntil) {
        written = new Set(
          (await readFile(auditFile, 'utf8').catch(() => ''))
            .split('\n')
            .filter(Boolean)
            .map((l) => (JSON.parse(l) as { message_uuid: string }).message_uuid),
        );
        if (expected.every((u) => written.has(u))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const missing = expected.filter((u) => !written.has(u));
      t.diagnostic(
        `${requests} requests in ${BUDGET_MS} ms; ${expected.length} valid records delivered; RSS MiB ${rss.map((r) => r.toFixed(0)).join(' → ')}`,
      );
      assert.deepEqual(missing, []);
      assert.ok(Math.max(...rss) < 400, `RSS reached ${Math.max(...rss).toFixed(0)} MiB`);
      alive();
    },
  );
});
