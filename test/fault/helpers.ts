import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { SecurityEvent } from '@otel-audit/sdk';
import type { Defer } from '../support/cleanup.js';
import { SinkServer } from '../support/sink-server.js';
import { tempDir } from '../support/tmp.js';
import { encodeLogsRequest, anyValue, attributes } from '../support/otlp-raw.js';

/** A temp dir and a SinkServer listening, both cleaned up through `defer`. */
export async function dirWithSink(defer: Defer): Promise<{ dir: string; sink: SinkServer; url: string }> {
  const { dir, cleanup } = await tempDir();
  defer(cleanup);
  const sink = new SinkServer();
  defer(() => sink.close());
  const url = await sink.listen();
  return { dir, sink, url };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Config with the OTLP/HTTP receiver on an ephemeral port, the test-only http_sink exporter and a storage dir. */
export function sinkConfig(
  sinkUrl: string,
  storage: { maxSize?: string; segmentSize?: string } = {},
  extraExporters = '',
): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  http_sink:
    endpoint: ${sinkUrl}
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 500ms
${extraExporters}extensions:
  storage:
    directory: ./storage
    max_size: ${storage.maxSize ?? '64MiB'}
    segment_size: ${storage.segmentSize ?? '1MiB'}
service:
  shutdown_timeout: 2s
  telemetry:
    address: 127.0.0.1:0
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [http_sink${extraExporters ? ', file' : ''}]
`;
}

/** A protobuf OTLP request with `n` security events; returns the body and the uuids in order. */
export function securityBatch(n: number, data = 'login'): { body: Buffer; uuids: string[] } {
  const uuids = Array.from({ length: n }, () => randomUUID());
  const body = encodeLogsRequest({
    resourceLogs: [
      {
        resource: { attributes: attributes({ 'service.name': 'fault-test' }) },
        scopeLogs: [
          {
            logRecords: uuids.map((uuid, i) => ({
              timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
              eventName: 'audit.security_event',
              body: anyValue(`${data} ${i}`),
              attributes: attributes({ 'log.record.uid': uuid, 'client.address': '10.1.2.3' }),
            })),
          },
        ],
      },
    ],
  });
  return { body, uuids };
}

export interface PostResult {
  status: number;
  retryAfter: string | undefined;
  body: Buffer;
}

export function postOtlp(endpoint: string, body: Buffer): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      `http://${endpoint}/v1/logs`,
      { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function httpGet(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on('error', reject)
      .end();
  });
}

/** Resident set size of a process, in MiB (Linux). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export { SecurityEvent };
export { until } from '../support/wait.js';
