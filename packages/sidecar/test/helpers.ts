import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRegistry } from '../src/components.js';
import { parseConfig } from '../src/config/load.js';
import { Service } from '../src/service.js';
import { createLogger } from '../src/telemetry/logger.js';
import { Metrics } from '../src/telemetry/metrics.js';

export interface TestService {
  readonly service: Service;
  readonly dir: string;
  readonly url: string;
  readonly auditFile: string;
  auditLines(): Promise<Record<string, unknown>[]>;
  /** Resolves once the audit file holds every uuid (exporters deliver from the spool asynchronously). */
  waitFor(uuids: readonly string[], timeoutMs?: number): Promise<Record<string, unknown>[]>;
  deadLetters(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/**
 * An in-process sidecar: OTLP/HTTP on an ephemeral port, file exporter into a temp dir. `http`,
 * `grpc` (enables gRPC) and `service` add YAML lines to those sections, indented already.
 */
export async function startTestService(
  options: { http?: string; grpc?: string; service?: string } = {},
): Promise<TestService> {
  const dir = await mkdtemp(join(tmpdir(), 'otel-audit-test-'));
  const grpc = options.grpc === undefined ? '' : `      grpc:\n        endpoint: 127.0.0.1:0\n${options.grpc}\n`;
  const yaml = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
${options.http ?? ''}
${grpc}exporters:
  file:
    path: ${dir}/audit.jsonl
extensions:
  storage:
    directory: ${dir}/spool
service:
${options.service ?? ''}
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`;
  const config = parseConfig(yaml, { source: 'test', registry: defaultRegistry(), env: {} });
  const service = await Service.start(config, {
    logger: createLogger('silent'),
    metrics: new Metrics({ defaultMetrics: false }),
  }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const auditFile = join(dir, 'audit.jsonl');
  return {
    service,
    dir,
    url: `http://${service.addresses()['otlp/http']!}/v1/logs`,
    auditFile,
    auditLines: () => readJsonLines(auditFile),
    async waitFor(uuids, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = await readJsonLines(auditFile);
        const have = new Set(lines.map((l) => l['message_uuid']));
        if (uuids.every((u) => have.has(u))) return lines;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${uuids.filter((u) => !have.has(u)).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    deadLetters: () => readJsonLines(join(dir, 'spool/dead-letter/receiver.jsonl')),
    async close() {
      await service.shutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function readJsonLines(file: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string | number>,
  method = 'POST',
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
