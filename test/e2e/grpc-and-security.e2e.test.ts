/**
 * OTLP/gRPC receiver and receiver security: the real OTel gRPC exporter end to end, a hand-built
 * gRPC client for bad data and status codes, TLS/mTLS and bearer tokens on both protocols, token
 * rotation, and no secret in the logs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { createAuditClient, SecurityEvent } from '@otel-audit/sdk';
import { cleanupAfter } from '../support/cleanup.js';
import { exportRaw, LOGS_EXPORT_PATH, rawLogsClient, type RawLogsClient } from '../support/otlp-grpc-raw.js';
import { anyValue, attributes, decodeLogsResponse, encodeLogsRequest } from '../support/otlp-raw.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { createTestPki, type TestPki } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';
import { GOLDEN, TIME } from './golden.js';

const TOKEN = 'tok-5d2c1e8f-7a44-4b5e-9c3a-0f1e2d3c4b5a';
const ROTATED = 'tok-rotated-0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d';

/** One Export call with this file's 10 s deadline. */
function call(client: RawLogsClient, body: Buffer, metadata?: grpc.Metadata) {
  return exportRaw(client, body, 10_000, metadata);
}

function batch(records: { body: string; attrs: Record<string, unknown>; eventName?: string }[]): Buffer {
  return encodeLogsRequest({
    resourceLogs: [
      {
        resource: { attributes: attributes({ 'service.name': 'grpc-test' }) },
        scopeLogs: [
          {
            logRecords: records.map((r) => ({
              timeUnixNano: String(BigInt(TIME.getTime()) * 1_000_000n),
              eventName: r.eventName ?? 'audit.security_event',
              body: anyValue(r.body),
              attributes: attributes(r.attrs as never),
            })),
          },
        ],
      },
    ],
  });
}

async function lines(file: string): Promise<Map<string, Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out = new Map<string, Record<string, unknown>>();
  for (const l of text.split('\n')) {
    if (l === '') continue;
    const r = JSON.parse(l) as Record<string, unknown>;
    out.set(r['message_uuid'] as string, r);
  }
  return out;
}

async function waitFor(file: string, uuids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = await lines(file);
    if (uuids.every((u) => m.has(u))) return m;
    if (Date.now() > deadline) throw new Error(`missing ${uuids.filter((u) => !m.has(u)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('OTLP/gRPC receiver', () => {
  let sidecar: SidecarProcess;
  let dir: string;
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
      grpc:
        endpoint: 127.0.0.1:0
        max_request_body_size: 2097152
    limits:
      max_records_per_request: 1000
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
    defer(async () => assert.equal(await sidecar.stop(), 0));
  });

  it('takes the real OpenTelemetry gRPC exporter and maps all six types', async (t) => {
    const exporter = new GrpcLogExporter({ url: `http://${sidecar.endpoints['otlp/grpc']!}` });
    t.after(() => exporter.shutdown());
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'grpc-app' }),
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
    });
    const logger = provider.getLogger('audit');
    const uuids = GOLDEN.map(() => randomUUID());
    GOLDEN.forEach((c, i) =>
      logger.emit({
        eventName: c.eventName,
        timestamp: TIME,
        ...(c.body ? { body: c.body } : {}),
        attributes: c.flattened(uuids[i]!) as never,
      }),
    );
    const result = await new Promise<{ code: ExportResultCode }>((resolve) =>
      exporter.export(memory.getFinishedLogRecords(), resolve),
    );
    assert.equal(result.code, ExportResultCode.SUCCESS);
    const written = await waitFor(join(dir, 'audit.jsonl'), uuids);
    GOLDEN.forEach((c, i) =>
      assert.equal(JSON.stringify(written.get(uuids[i]!)!['message']), JSON.stringify(c.sap(uuids[i]!)), c.name),
    );
    await exporter.shutdown();
  });

  it('acknowledges @otel-audit/sdk log() over gRPC', async (t) => {
    const client = createAuditClient({ protocol: 'grpc', endpoint: `http://${sidecar.endpoints['otlp/grpc']!}` });
    t.after(() => client.shutdown());
    const uuid = randomUUID();
    await client.log(new SecurityEvent({ uuid, data: 'grpc log()' }));
    await waitFor(join(dir, 'audit.jsonl'), [uuid]);
    await client.shutdown();
  });

  it('answers a hand-built client: success, partial success, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, gzip', async (t) => {
    const defer = cleanupAfter(t);
    const client = rawLogsClient(sidecar.endpoints['otlp/grpc']!);
    defer(() => client.close());
    const good = randomUUID();
    const ok = await call(client, batch([{ body: 'fine', attrs: { 'log.record.uid': good } }]));
    assert.equal(ok.err, null);
    assert.equal(ok.res!.length, 0);

    const bad = randomUUID();
    const mixed = await call(
      client,
      batch([
        { body: 'fine', attrs: {} },
        { body: 'x', attrs: { 'log.record.uid': bad, 'client.address': 'nope' } },
      ]),
    );
    assert.equal(mixed.err, null);
    const partial = decodeLogsResponse(mixed.res!).partialSuccess!;
    assert.equal(partial.rejectedLogRecords, '1');
    assert.match(
      partial.errorMessage!,
      new RegExp(`record 1 uuid=${bad}: client.address: "nope" is not a valid IPv4 or IPv6 address`),
    );

    const garbage = await call(client, Buffer.from([0x0a, 0x7f, 0x01]));
    assert.equal(garbage.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(garbage.err.details, /runs past the end/);

    const tooMany = await call(client, batch(Array.from({ length: 1001 }, () => ({ body: 'x', attrs: {} }))));
    assert.equal(tooMany.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(tooMany.err.details, /more than 1000 log records/);
    assert.equal(tooMany.err.metadata.get('grpc-status-details-bin').length, 0, 'no RetryInfo: not retryable');

    const huge = await call(client, batch([{ body: 'x'.repeat(3 * 1024 * 1024), attrs: {} }]));
    assert.equal(huge.err?.code, grpc.status.RESOURCE_EXHAUSTED);

    const gzipClient = rawLogsClient(sidecar.endpoints['otlp/grpc']!, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    });
    defer(() => gzipClient.close());
    const zipped = randomUUID();
    assert.equal(
      (await call(gzipClient, batch([{ body: 'gzip'.repeat(1000), attrs: { 'log.record.uid': zipped } }]))).err,
      null,
    );
    await waitFor(join(dir, 'audit.jsonl'), [good, zipped]);
    client.close();
    gzipClient.close();
  });
});

describe('receiver security (TLS, mTLS, bearer tokens)', () => {
  let pki: TestPki;
  let sidecar: SidecarProcess;
  let dir: string;
  let tokensFile: string;
  const defer = cleanupAfter();

  before(async () => {
    const tmp = await tempDir();
    dir = tmp.dir;
    defer(tmp.cleanup);
    pki = createTestPki(join(dir, 'pki'));
    tokensFile = join(dir, 'tokens');
    await writeFile(tokensFile, `# accepted tokens\n${TOKEN}\n`);
    const security = `        tls:
          cert_file: ${pki.dir}/server.crt
          key_file: ${pki.dir}/server.key
          client_ca_file: ${pki.caFile}
        auth:
          bearer_tokens_file: ${tokensFile}
          reload_interval: 100ms`;
    sidecar = await startSidecar({
      dir,
      config: `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:0
${security}
      http:
        endpoint: 0.0.0.0:0
${security}
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./storage
service:
  telemetry:
    logs:
      level: debug
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`,
    });
    defer(() => sidecar.kill());
    defer(async () => {
      await sidecar.stop();
      // Nothing secret reached the logs, even at debug level.
      const log = sidecar.output.join('\n');
      for (const secret of [TOKEN, ROTATED, pki.serverKey.split('\n')[1]!])
        assert.ok(!log.includes(secret), 'a secret is in the logs');
    });
  });

  const port = (protocol: string) => sidecar.endpoints[`otlp/${protocol}`]!.split(':').at(-1)!;

  function https(body: Buffer, headers: Record<string, string>, cert?: { cert: string; key: string }): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: 'localhost',
          port: port('http'),
          path: '/v1/logs',
          method: 'POST',
          ca: pki.ca,
          ...cert,
          headers: { 'Content-Type': 'application/x-protobuf', ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const client = { cert: '', key: '' };
  before(() => {
    client.cert = pki.clientCert;
    client.key = pki.clientKey;
  });

  it('over HTTPS: needs a client certificate from the CA and a valid bearer token', async () => {
    const body = batch([{ body: 'secure http', attrs: {} }]);
    assert.equal(await https(body, { Authorization: `Bearer ${TOKEN}` }, client), 200);
    assert.equal(await https(body, {}, client), 401);
    assert.equal(await https(body, { Authorization: 'Bearer not-the-token-at-all' }, client), 401);
    await assert.rejects(https(body, { Authorization: `Bearer ${TOKEN}` }), 'no client certificate: handshake refused');
    await assert.rejects(
      https(body, { Authorization: `Bearer ${TOKEN}` }, { cert: pki.strangerCert, key: pki.strangerKey }),
    );
  });

  it('over gRPC with TLS: UNAUTHENTICATED without the token, refused without a client certificate', async (t) => {
    const defer = cleanupAfter(t);
    const body = batch([{ body: 'secure grpc', attrs: {} }]);
    const creds = grpc.credentials.createSsl(
      Buffer.from(pki.ca),
      Buffer.from(pki.clientKey),
      Buffer.from(pki.clientCert),
    );
    const c = rawLogsClient(`localhost:${port('grpc')}`, creds);
    defer(() => c.close());
    const withToken = new grpc.Metadata();
    withToken.set('authorization', `Bearer ${TOKEN}`);
    assert.equal((await call(c, body, withToken)).err, null);
    assert.equal((await call(c, body)).err?.code, grpc.status.UNAUTHENTICATED);
    const noCert = rawLogsClient(`localhost:${port('grpc')}`, grpc.credentials.createSsl(Buffer.from(pki.ca)));
    defer(() => noCert.close());
    assert.equal((await call(noCert, body, withToken)).err?.code, grpc.status.UNAVAILABLE);
    c.close();
    noCert.close();
  });

  it('the OTel gRPC exporter with mTLS and a token header delivers', async (t) => {
    const exporter = new GrpcLogExporter({
      url: `https://localhost:${port('grpc')}`,
      credentials: grpc.credentials.createSsl(
        Buffer.from(pki.ca),
        Buffer.from(pki.clientKey),
        Buffer.from(pki.clientCert),
      ),
      metadata: (() => {
        const m = new grpc.Metadata();
        m.set('authorization', `Bearer ${TOKEN}`);
        return m;
      })(),
    });
    t.after(() => exporter.shutdown());
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
    const uuid = randomUUID();
    provider.getLogger('a').emit(new SecurityEvent({ uuid, data: 'otel grpc tls' }).toLogRecord());
    const result = await new Promise<{ code: ExportResultCode }>((resolve) =>
      exporter.export(memory.getFinishedLogRecords(), resolve),
    );
    assert.equal(result.code, ExportResultCode.SUCCESS);
    await waitFor(join(dir, 'audit.jsonl'), [uuid]);
    await exporter.shutdown();
  });

  it('picks up a rotated token file without a restart', async () => {
    const body = batch([{ body: 'rotation', attrs: {} }]);
    assert.equal(await https(body, { Authorization: `Bearer ${ROTATED}` }, client), 401);
    await writeFile(tokensFile, `${ROTATED}\n`);
    const deadline = Date.now() + 5000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      await new Promise((r) => setTimeout(r, 50));
      status = await https(body, { Authorization: `Bearer ${ROTATED}` }, client);
    }
    assert.equal(status, 200);
    assert.equal(
      await https(body, { Authorization: `Bearer ${TOKEN}` }, client),
      401,
      'the old token is no longer accepted',
    );
  });
});

describe('gRPC authentication', () => {
  it('refuses a caller without a token from its metadata, before the request message arrives', async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const s = await startSidecar({
      dir,
      config: securityConfig(
        'grpc',
        `        endpoint: 127.0.0.1:0\n        auth:\n          bearer_tokens: ["${TOKEN}"]\n`,
      ),
    });
    defer(() => s.kill());
    const session = connect(`http://${s.endpoints['otlp/grpc']!}`);
    defer(() => session.destroy());
    session.on('error', () => undefined); // the sidecar's shutdown cuts this session
    const stream = session.request({
      ':method': 'POST',
      ':path': LOGS_EXPORT_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    // A message announced as 16 MiB of which only 64 KiB ever arrive: a server that reads the
    // message before checking the token never answers.
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(16 * 1024 * 1024, 1);
    stream.write(Buffer.concat([prefix, Buffer.alloc(64 * 1024)]));
    stream.on('error', () => undefined);
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      stream.on('response', (h) => {
        clearTimeout(timer);
        resolve(h);
      });
      stream.on('error', reject);
    });
    assert.equal(headers['grpc-status'], String(grpc.status.UNAUTHENTICATED));
    // The stream stays open (its message never completes): the shutdown must not wait for it.
    const started = Date.now();
    assert.equal(await s.stop(), 0);
    assert.ok(Date.now() - started < 10_000, `shutdown took ${Date.now() - started} ms`);
  });

  it('an HTTP client that never finishes its request does not hold the shutdown', async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const s = await startSidecar({
      dir,
      config: securityConfig('http', '        endpoint: 127.0.0.1:0\n'),
    });
    defer(() => s.kill());
    const req = httpRequest(`http://${s.endpoints['otlp/http']!}/v1/logs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': 1_000_000 },
    });
    defer(() => req.destroy());
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1000));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    assert.equal(await s.stop(), 0);
    assert.ok(Date.now() - started < 10_000, `shutdown took ${Date.now() - started} ms`);
  });
});

describe('insecure receivers', () => {
  it('warn at start when they accept unauthenticated records from other hosts', async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const s = await startSidecar({
      dir,
      config: securityConfig('http', '        endpoint: 0.0.0.0:0\n        insecure: true\n'),
    });
    defer(() => s.kill());
    assert.match(s.output.join('\n'), /"level":"warn".*insecure: true/);
    await s.stop();
  });

  it('warn at start when bearer tokens travel without tls', async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const s = await startSidecar({
      dir,
      config: securityConfig(
        'grpc',
        `        endpoint: 0.0.0.0:0\n        auth:\n          bearer_tokens: ["${TOKEN}"]\n`,
      ),
    });
    defer(() => s.kill());
    const log = s.output.join('\n');
    assert.match(log, /"level":"warn".*bearer tokens without tls/);
    assert.ok(!log.includes(TOKEN), 'the token must not be logged');
    await s.stop();
  });
});

describe('receiver security files that cannot be used', () => {
  let dir: string;
  let pki: TestPki;
  const defer = cleanupAfter();
  before(async () => {
    const tmp = await tempDir();
    dir = tmp.dir;
    defer(tmp.cleanup);
    pki = createTestPki(join(dir, 'pki'));
  });

  const failsToStart = async (config: string, expected: RegExp, secret?: string) => {
    const err = await startSidecar({ dir, config }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    assert.ok(err, 'the sidecar must not start');
    assert.match(err.message, expected);
    if (secret !== undefined) assert.ok(!err.message.includes(secret), 'the secret must not be shown');
  };

  for (const protocol of ['http', 'grpc'] as const) {
    it(`${protocol}: a missing certificate file stops the start, naming the file`, () =>
      failsToStart(
        securityConfig(protocol, tlsBlock(join(dir, 'pki', 'missing.crt'), pki.dir + '/server.key')),
        /cannot read tls cert_file .*missing\.crt/,
      ));

    it(`${protocol}: a key that does not match the certificate stops the start`, () =>
      failsToStart(
        securityConfig(protocol, tlsBlock(pki.dir + '/server.crt', pki.dir + '/stranger.key')),
        /tls files .*server\.crt.*stranger\.key.* are not a usable certificate, key and CA/,
      ));
  }

  it('a token file with a short token stops the start, naming the line but not the token', async () => {
    const file = join(dir, 'tokens');
    await writeFile(file, `# team a\n${TOKEN}\n\nshort-secret\n`);
    await failsToStart(
      securityConfig('http', `        endpoint: 127.0.0.1:0\n        auth:\n          bearer_tokens_file: ${file}\n`),
      /cannot use bearer_tokens_file .*tokens: line 4 holds a token shorter than 16 characters/,
      'short-secret',
    );
  });
});

function tlsBlock(certFile: string, keyFile: string): string {
  return `        endpoint: 127.0.0.1:0\n        tls:\n          cert_file: ${certFile}\n          key_file: ${keyFile}\n`;
}

function securityConfig(protocol: 'http' | 'grpc', block: string): string {
  return `receivers:\n  otlp:\n    protocols:\n      ${protocol}:\n${block}exporters:\n  file:\n    path: ./a.jsonl\nextensions:\n  storage:\n    directory: ./storage\nservice:\n  pipelines:\n    audit:\n      receivers: [otlp]\n      exporters: [file]\n`;
}
