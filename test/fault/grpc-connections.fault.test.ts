/**
 * Connections that never make a call: silent TCP, a partial HTTP/2 preface, silent TCP to the TLS
 * port, a TLS handshake stalled after its first bytes, TLS completed and then silence, and an idle
 * HTTP/2 session; and for the OTLP/HTTP receiver with TLS, silent TCP and a stalled TLS handshake.
 * None needs a token. The sidecar runs with a limit of 256 open files and gets 770 such
 * connections, more than it can hold: it must close them after `handshake_timeout` (or
 * `idle_timeout`), and a valid sender must get through soon after.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { cleanupAfter } from '../support/cleanup.js';
import { exportRaw, rawLogsClient } from '../support/otlp-grpc-raw.js';
import { startSidecar } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { createTestPki } from '../support/tls.js';
import { securityBatch, sleep } from './helpers.js';

const HANDSHAKE_S = 2;
const IDLE_S = 4;

async function openFiles(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** A TLS record header announcing a ClientHello whose bytes never come. */
const STALLED_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);

describe('fault: idle and half-open gRPC and HTTPS connections', () => {
  it('closes silent, half-open and idle connections and serves senders again', { timeout: 90_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const pki = createTestPki(join(dir, 'pki'));
    const timeouts = `        handshake_timeout: ${HANDSHAKE_S}s\n        idle_timeout: ${IDLE_S}s`;
    const sidecar = await startSidecar({
      dir,
      // As a container with a low open-files limit: 330 connections are more than it can hold.
      wrapper: ['sh', '-c', 'ulimit -n 256 && exec "$0" "$@"'],
      config: `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
${timeouts}
  otlp/tls:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
${timeouts}
        tls:
          cert_file: ${pki.dir}/server.crt
          key_file: ${pki.dir}/server.key
  otlp/https:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        handshake_timeout: ${HANDSHAKE_S}s
        tls:
          cert_file: ${pki.dir}/server.crt
          key_file: ${pki.dir}/server.key
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./storage
service:
  pipelines:
    audit:
      receivers: [otlp, otlp/tls, otlp/https]
      exporters: [file]
`,
    });
    defer(() => sidecar.kill());
    const pid = sidecar.child.pid!;
    const plain = sidecar.endpoints['otlp/grpc']!;
    const secure = sidecar.endpoints['otlp/tls/grpc']!;
    const [host, port] = [plain.slice(0, plain.lastIndexOf(':')), Number(plain.slice(plain.lastIndexOf(':') + 1))];
    const tlsPort = Number(secure.slice(secure.lastIndexOf(':') + 1));
    const https = sidecar.endpoints['otlp/https/http']!;
    const httpsPort = Number(https.slice(https.lastIndexOf(':') + 1));
    const baseline = await openFiles(pid);

    // An HTTP/2 session that answers pings but never makes a call: closed once idle_timeout passes.
    const idle = http2Connect(`http://${plain}`);
    idle.on('error', () => undefined);
    defer(() => idle.destroy());
    await new Promise((resolve) => idle.once('connect', resolve));
    const idleOpened = Date.now();
    const idleClosed = new Promise<number>((resolve) => idle.on('close', () => resolve(Date.now() - idleOpened)));

    const closed = new Map<string, number>();
    const sockets: Socket[] = [];
    defer(() => sockets.forEach((s) => s.destroy()));
    const track = (kind: string, s: Socket) => {
      sockets.push(s);
      s.resume(); // read what the sidecar sends, so that its end is seen
      s.on('error', () => undefined);
      s.on('close', () => closed.set(kind, (closed.get(kind) ?? 0) + 1));
    };
    const opened = Date.now();
    for (let i = 0; i < 110; i++) {
      track('silent', netConnect(port, host));
      const partial = netConnect(port, host, () => partial.write('PRI * HTTP/2.0\r\n'));
      track('partial preface', partial);
      track('silent before TLS', netConnect(tlsPort, host));
      const stalled = netConnect(tlsPort, host, () => stalled.write(STALLED_CLIENT_HELLO));
      track('stalled TLS handshake', stalled);
      track('HTTPS: silent', netConnect(httpsPort, host));
      const stalledHttps = netConnect(httpsPort, host, () => stalledHttps.write(STALLED_CLIENT_HELLO));
      track('HTTPS: stalled TLS handshake', stalledHttps);
      const t = tlsConnect({ host, port: tlsPort, ca: pki.ca, servername: 'localhost', ALPNProtocols: ['h2'] });
      track('silent after TLS', t);
    }

    // A valid sender keeps trying (as an OTLP exporter retries UNAVAILABLE); it gets through.
    const client = rawLogsClient(plain);
    defer(() => client.close());
    const { body } = securityBatch(5);
    let served: number | undefined;
    for (let i = 0; i < 40 && served === undefined; i++) {
      const { err } = await exportRaw(client, body, 3000);
      if (err === null) served = Date.now() - opened;
      else if (err.code !== grpc.status.UNAVAILABLE && err.code !== grpc.status.DEADLINE_EXCEEDED) assert.fail(err);
      else await sleep(250);
    }
    assert.ok(served !== undefined, 'the valid sender was never served');

    await sleep(HANDSHAKE_S * 1000 + 1500);
    const total = (kind: string) => closed.get(kind) ?? 0;
    t.diagnostic(
      `served after ${served} ms; closed by the sidecar: ${[...closed].map(([k, n]) => `${k} ${n}`).join(', ')}; open files ${baseline} at start, ${await openFiles(pid)} now`,
    );
    for (const kind of [
      'silent',
      'partial preface',
      'silent before TLS',
      'stalled TLS handshake',
      'silent after TLS',
      'HTTPS: silent',
      'HTTPS: stalled TLS handshake',
    ])
      assert.equal(total(kind), 110, kind);
    assert.ok((await openFiles(pid)) < baseline + 20, 'the connections are gone from the sidecar');
    const idleAfter = await idleClosed;
    assert.ok(
      idleAfter >= IDLE_S * 1000 - 500 && idleAfter < IDLE_S * 1000 + 5000,
      `idle session closed after ${idleAfter} ms`,
    );
    assert.equal(await sidecar.stop(), 0);
  });
});
