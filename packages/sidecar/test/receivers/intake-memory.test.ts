import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { LogsConsumer } from '../../src/model/consume.js';
import { DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS } from '../../src/model/limits.js';
import { MemoryBudget, MemoryBudgetTooSmallError, MemoryBusyError } from '../../src/model/memory-budget.js';
import { decodeLogsRequestProto } from '../../src/otlp/decode-proto.js';
import { ReceiverError } from '../../src/receivers/otlp/errors.js';
import { consumeProtoBody, decodeJsonBody, decompressBody } from '../../src/receivers/otlp/intake.js';
import { otelRecords } from '../otel-records.js';
import { post, startTestService, type TestService } from '../helpers.js';

const MiB = 1024 * 1024;
const PROTO = { 'Content-Type': 'application/x-protobuf' };

function securityEvents(n: number, start = 0, data = 'event') {
  return otelRecords(
    Array.from({ length: n }, (_, i) => ({
      eventName: 'audit.security_event',
      body: `${data} ${start + i}`,
      attributes: { 'log.record.uid': `00000000-0000-4000-8000-${String(start + i).padStart(12, '0')}` },
    })),
  );
}

const protobuf = (n: number, start = 0, data = 'event') =>
  Buffer.from(ProtobufLogsSerializer.serializeRequest(securityEvents(n, start, data))!);

describe('intake memory budget', () => {
  it('leases take, shrink and give back; busy and too large are told apart', () => {
    const budget = new MemoryBudget(1000);
    const a = budget.lease();
    a.take(600, 'a');
    assert.equal(budget.inUse(), 600);
    const b = budget.lease();
    assert.throws(() => b.take(500, 'b'), MemoryBusyError);
    assert.throws(
      () => b.take(1001, 'the body'),
      (e: unknown) => {
        assert.ok(e instanceof MemoryBudgetTooSmallError);
        assert.match(e.message, /^the body needs about 0\.0 MiB of memory, more than the intake memory budget/);
        return true;
      },
    );
    a.shrinkTo(100);
    assert.equal(budget.inUse(), 100);
    b.take(500, 'b');
    assert.equal(b.room(), 900);
    a.release();
    b.release();
    assert.equal(budget.inUse(), 0);
    assert.equal(budget.peakInUse(), 600);
    assert.deepEqual([budget.refusedBusy, budget.refusedTooLarge], [1, 1]);
  });

  it('decompression takes twice the largest allowed output first, then keeps twice the real one', async () => {
    const raw = protobuf(50);
    const gz = gzipSync(raw);
    const budget = new MemoryBudget(64 * MiB);
    const lease = budget.lease();
    const out = await decompressBody(gz, 'gzip', 20 * MiB, 100, lease);
    assert.deepEqual(out, raw);
    assert.equal(lease.bytes(), 2 * raw.length);
    // Up to 100 × 2 KB may come out: 2 × 200 KB (and at least 64 KiB) is taken before it runs.
    const small = new MemoryBudget(2 * 64 * 1024 - 1).lease();
    await assert.rejects(decompressBody(gz, 'gzip', 20 * MiB, 100, small), MemoryBudgetTooSmallError);
    assert.equal(small.bytes(), 0);
    // The ratio limit still applies, and the lease is given back.
    const bomb = gzipSync(Buffer.alloc(4 * MiB));
    const l2 = budget.lease();
    await assert.rejects(decompressBody(bomb, 'gzip', 20 * MiB, 100, l2), (e: unknown) => {
      assert.ok(e instanceof ReceiverError && e.httpStatus === 413);
      assert.match(e.message, /max_decompression_ratio/);
      return true;
    });
    assert.equal(l2.bytes(), 0);
  });

  it('bounds JSON.parse before it runs, and stops decoding once the estimate passes what is left', async () => {
    // A consumer that decodes binary requests into objects, as the pipeline does for the records
    // its fast path leaves to the reference decoder: it charges the meter it is given.
    const decoding: LogsConsumer = {
      consume: () => Promise.reject(new Error('not used')),
      consumeProto: (body, limits, _recordLimits, meter) => {
        decodeLogsRequestProto(body, limits, meter);
        return Promise.resolve({ received: 0, accepted: 0, ignored: 0, rejected: [] });
      },
    };
    // 1 MiB of `[{},{},...]`-like JSON would take ~25 MiB to parse: refused before parsing.
    const json = Buffer.from(`{"resourceLogs":[${'{},'.repeat(350_000)}{}]}`);
    const lease = new MemoryBudget(8 * MiB).lease();
    assert.throws(
      () => decodeJsonBody(json, DEFAULT_DECODE_LIMITS, lease),
      (e: unknown) => {
        assert.ok(e instanceof MemoryBudgetTooSmallError);
        assert.match(e.message, /^parsing the JSON body needs about \d+\.\d MiB/);
        return true;
      },
    );
    // Protobuf: 2,000 records of 200 attributes are metered while decoded; stopped well before the end.
    const many = Buffer.from(
      ProtobufLogsSerializer.serializeRequest(
        otelRecords(
          Array.from({ length: 2000 }, () => ({
            eventName: 'audit.security_event',
            body: 'x',
            attributes: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'])),
          })),
        ),
      )!,
    );
    const budget = new MemoryBudget(32 * MiB);
    const busy = budget.lease();
    busy.take(16 * MiB, 'another request');
    const l = budget.lease();
    await assert.rejects(
      () => consumeProtoBody(decoding, many, DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS, l),
      (e: unknown) => {
        // Others hold half of the budget: it may pass later.
        assert.ok(e instanceof MemoryBusyError);
        return true;
      },
    );
    busy.release();
    l.release();
    await assert.rejects(
      () => consumeProtoBody(decoding, many, DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS, budget.lease()),
      (e: unknown) => {
        assert.ok(e instanceof MemoryBudgetTooSmallError);
        assert.match(
          e.message,
          /^the request needs more memory than the intake memory budget of 32\.0 MiB; send smaller requests$/,
        );
        return true;
      },
    );
  });
  it('holds what a request decoded until it is answered: requests decoded meanwhile cannot count on the same memory', async () => {
    const body = Buffer.from(
      ProtobufLogsSerializer.serializeRequest(
        otelRecords(
          Array.from({ length: 200 }, () => ({
            eventName: 'audit.security_event',
            body: 'x',
            attributes: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'])),
          })),
        ),
      )!,
    );
    // Decodes into objects (as the pipeline does for what its fast path leaves to the reference),
    // then holds the result until told to store it.
    let store!: () => void;
    const stored = new Promise<void>((resolve) => (store = resolve));
    const holding: LogsConsumer = {
      consume: () => Promise.reject(new Error('not used')),
      consumeProto: async (b, limits, _recordLimits, meter) => {
        decodeLogsRequestProto(b, limits, meter);
        await stored;
        return { received: 0, accepted: 0, ignored: 0, rejected: [] };
      },
    };
    // How much one such request holds, alone.
    const probe = new MemoryBudget(1024 * MiB);
    const alone = probe.lease();
    const probing = consumeProtoBody(holding, body, DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS, alone);
    await new Promise((resolve) => setImmediate(resolve));
    const one = alone.bytes();
    assert.ok(one > body.length * 4, `one request holds ${one} bytes while it waits`);
    // A budget with room for one of them, not two.
    const budget = new MemoryBudget(Math.ceil(one * 1.5));
    const first = budget.lease();
    const firstDone = consumeProtoBody(holding, body, DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS, first);
    await new Promise((resolve) => setImmediate(resolve));
    const second = budget.lease();
    await assert.rejects(
      consumeProtoBody(holding, body, DEFAULT_DECODE_LIMITS, DEFAULT_RECORD_LIMITS, second),
      MemoryBusyError,
    );
    store();
    await Promise.all([probing, firstDone]);
    first.release();
    second.release();
    alone.release();
    assert.equal(budget.inUse(), 0);
  });
});

/** A raw LogsService client (bytes in, bytes out), compressing with `compression` (grpc-js channel option). */
function grpcClient(address: string, compression: 'gzip' | 'deflate' | 'identity') {
  const id = (b: Buffer) => b;
  const Ctor = grpc.makeGenericClientConstructor(
    {
      Export: {
        path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: id,
        requestDeserialize: id,
        responseSerialize: id,
        responseDeserialize: id,
      },
    },
    'LogsService',
  );
  const client = new Ctor(address, grpc.credentials.createInsecure(), {
    'grpc.default_compression_algorithm': grpc.compressionAlgorithms[compression],
    'grpc.max_send_message_length': 64 * MiB,
  }) as unknown as grpc.Client & {
    Export(b: Buffer, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void): void;
  };
  const call = (body: Buffer) =>
    new Promise<grpc.ServiceError | null>((resolve) =>
      client.Export(body, new grpc.Metadata(), { deadline: Date.now() + 20_000 }, resolve),
    );
  return { client, call };
}

describe('receivers within a small intake memory budget', () => {
  let s: TestService;
  before(async () => {
    s = await startTestService({
      http: '        max_request_body_size: 8388608',
      grpc: '        max_request_body_size: 8388608',
      service: '  intake_memory_budget: 4MiB',
    });
  });
  after(async () => {
    await s.close();
  });

  const metric = async (name: string) => {
    const text = await s.service.metrics.registry.metrics();
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .join('\n');
  };

  const freed = async () => {
    for (let i = 0; i < 200 && !/ 0$/.test(await metric('otel_audit_receiver_memory_in_use_bytes')); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('refuses a request that could never fit with 413, and serves the others', async () => {
    const big = protobuf(2000, 0, 'x'.repeat(400));
    assert.ok(big.length > 700_000);
    const res = await post(s.url, big, PROTO);
    assert.equal(res.status, 413);
    assert.equal(res.headers['retry-after'], undefined);
    assert.match(res.body.toString('latin1'), /more than the intake memory budget of 4\.0 MiB; send smaller requests/);
    assert.equal((await post(s.url, protobuf(5, 10), PROTO)).status, 200);
    await s.waitFor(['00000000-0000-4000-8000-000000000010']);
    assert.match(await metric('otel_audit_receiver_memory_budget_bytes'), / 4194304$/);
    assert.match(await metric('otel_audit_receiver_memory_refusals_total'), /reason="too_large"} 1$/m);
  });

  it('answers 429 with Retry-After, and gRPC RESOURCE_EXHAUSTED with RetryInfo, while the budget is in use', async () => {
    // A slow upload declares 3 MiB: its memory is taken before its body arrives.
    const url = new URL(s.url);
    const slow = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { ...PROTO, 'Content-Length': 3 * MiB },
    });
    slow.on('error', () => undefined);
    slow.write(Buffer.alloc(1024));
    try {
      await new Promise((r) => setTimeout(r, 200));
      // About 3.4 MiB by the estimate (mostly per record): fits the budget, not what is left of it.
      const res = await post(s.url, protobuf(2000, 100), PROTO);
      assert.equal(res.status, 429);
      assert.equal(res.headers['retry-after'], '1');
      assert.match(res.body.toString('latin1'), /the intake memory budget is in use/);

      const { client, call } = grpcClient(s.service.addresses()['otlp/grpc']!, 'gzip');
      try {
        const err = await call(protobuf(2000, 3000));
        assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(err.details, /the intake memory budget is in use/);
        assert.equal(err.metadata.get('grpc-status-details-bin').length, 1, 'RetryInfo is sent');
      } finally {
        client.close();
      }
      assert.match(await metric('otel_audit_receiver_memory_refusals_total'), /protocol="grpc",reason="busy"} 1$/m);
    } finally {
      slow.destroy();
    }
    // Once the upload is gone, the same request passes.
    await freed();
    assert.equal((await post(s.url, protobuf(2000, 100), PROTO)).status, 200);
  });

  it('decompresses gRPC gzip and deflate itself, under max_decompression_ratio', async () => {
    await freed();
    for (const compression of ['gzip', 'deflate'] as const) {
      const { client, call } = grpcClient(s.service.addresses()['otlp/grpc']!, compression);
      try {
        assert.equal(await call(protobuf(3, compression === 'gzip' ? 500 : 510)), null);
        // 7 MiB of one repeated byte: gzip makes it ~7 KB, a ratio of ~1,000.
        const bomb = await call(protobuf(1, 520, 'a'.repeat(7 * MiB)));
        assert.equal(bomb?.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(bomb.details, /decompresses to more than 100 times its size \(max_decompression_ratio\)/);
        assert.equal(bomb.metadata.get('grpc-status-details-bin').length, 0, 'no retry for a bomb');
      } finally {
        client.close();
      }
    }
    await s.waitFor(['00000000-0000-4000-8000-000000000500', '00000000-0000-4000-8000-000000000512']);
  });
});
