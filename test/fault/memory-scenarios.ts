/**
 * The hostile bodies of issue 16 sent to a sidecar running in a memory cgroup, while valid senders
 * go on: used by the memory fault test (asserts) and the intake-memory benchmark (prints figures).
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { exportRaw, rawLogsClient } from '../support/otlp-grpc-raw.js';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import type { MemoryCgroup } from '../support/memory-cgroup.js';
import {
  emptyObjectsJson,
  hugeStringProto,
  largeValidBatch,
  manyAttributesGzip,
  manyAttributesJson,
  manyAttributesProto,
} from './hostile-bodies.js';
import { securityBatch } from './helpers.js';

export interface Answer {
  /** HTTP status, or the gRPC code name; `error: ...` when the connection failed. */
  readonly status: string;
  readonly retryAfter?: string | undefined;
  readonly body?: string;
}

export interface ScenarioOutcome {
  readonly name: string;
  /** Answers to the hostile requests (or, for `valid-4x17.7MB`, to each try of the four batches). */
  readonly answers: readonly Answer[];
  /** The sidecar's exit (code or signal) if it died during the scenario. */
  readonly died: number | string | undefined;
  readonly oomKills: number;
  /** Highest resident set size of the sidecar process (VmHWM), MiB; undefined if it died. */
  readonly peakRssMiB: number | undefined;
  /** uuids acknowledged with 200 during the scenario (valid senders and valid hostile batches). */
  readonly acknowledged: readonly string[];
  /** Answers to the valid small requests sent meanwhile that were not 200. */
  readonly validFailures: readonly Answer[];
  /** Valid small requests sent meanwhile. */
  readonly validSent: number;
}

export const SCENARIOS = [
  'json-20MiB',
  'json-20MiB-objects',
  'gzip-262KB',
  'proto-820x2000',
  'grpc-16x-gzip',
  'grpc-16x-gzip-in-ratio',
  'valid-4x17.7MB',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export function memoryTestConfig(extraService = ''): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./storage
    max_size: 2GiB
service:
  telemetry:
    address: 127.0.0.1:0
${extraService}  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`;
}

export async function startInCgroup(dir: string, cgroup: MemoryCgroup, extraService = ''): Promise<SidecarProcess> {
  return startSidecar({ dir, config: memoryTestConfig(extraService), wrapper: cgroup.wrapper, startTimeoutMs: 30_000 });
}

export function post(
  endpoint: string,
  body: Buffer | string,
  headers: Record<string, string>,
  timeoutMs = 120_000,
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(`http://${endpoint}/v1/logs`, { method: 'POST', headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: String(res.statusCode ?? 0),
          retryAfter: res.headers['retry-after'],
          body: Buffer.concat(chunks).toString('latin1').slice(0, 300),
        }),
      );
      res.on('error', (err) => resolve({ status: `error: ${err.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ status: `error: ${err.message}` }));
    req.end(body);
  });
}

const PROTO = { 'Content-Type': 'application/x-protobuf' };

/** Posts a valid batch, retrying 429/503 after their Retry-After (as OTLP clients do); the last answer. */
async function postWithRetries(endpoint: string, body: Buffer, deadline: number, answers: Answer[]): Promise<Answer> {
  for (;;) {
    const a = await post(endpoint, body, PROTO);
    answers.push(a);
    if ((a.status !== '429' && a.status !== '503') || Date.now() > deadline) return a;
    await delay(Number(a.retryAfter ?? 1) * 1000);
  }
}

async function peakRssMiB(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kb = status === undefined ? NaN : Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Number.isFinite(kb) ? kb / 1024 : undefined;
}

/**
 * Runs one scenario against a started sidecar: the hostile requests, and meanwhile a valid
 * 20-record batch every 250 ms (retried on 429/503 like a client would).
 */
export async function runScenario(
  name: ScenarioName,
  sidecar: SidecarProcess,
  cgroup: MemoryCgroup,
): Promise<ScenarioOutcome> {
  const http = sidecar.endpoints['otlp/http']!;
  const acknowledged: string[] = [];
  const validFailures: Answer[] = [];
  let validSent = 0;
  let hostileDone = false;
  let died: number | string | undefined;
  void sidecar.exited.then((code) => (died = code));

  // Built before the valid senders start, so building them does not delay those.
  const hostile = await prepare(name);
  const valid = (async () => {
    while (!hostileDone && died === undefined) {
      const { body, uuids } = securityBatch(20);
      validSent++;
      const tries: Answer[] = [];
      const a = await postWithRetries(http, body, Date.now() + 60_000, tries);
      if (a.status === '200') acknowledged.push(...uuids);
      else validFailures.push(a);
      await delay(250);
    }
  })();
  const answers: Answer[] = [];
  try {
    await hostile(sidecar, answers, acknowledged);
  } finally {
    await delay(1000);
    hostileDone = true;
    await valid;
  }
  return {
    name,
    answers,
    died,
    oomKills: await cgroup.oomKills(),
    peakRssMiB: died === undefined ? await peakRssMiB(sidecar.child.pid!) : undefined,
    acknowledged,
    validFailures,
    validSent,
  };
}

type Hostile = (sidecar: SidecarProcess, answers: Answer[], acknowledged: string[]) => Promise<void>;

async function prepare(name: ScenarioName): Promise<Hostile> {
  switch (name) {
    case 'json-20MiB': {
      const json = manyAttributesJson();
      return async (s, answers) => {
        answers.push(await post(s.endpoints['otlp/http']!, json, { 'Content-Type': 'application/json' }));
      };
    }
    case 'json-20MiB-objects': {
      const json = emptyObjectsJson();
      return async (s, answers) => {
        answers.push(await post(s.endpoints['otlp/http']!, json, { 'Content-Type': 'application/json' }));
      };
    }
    case 'gzip-262KB': {
      const gz = manyAttributesGzip();
      return async (s, answers) => {
        answers.push(
          await post(s.endpoints['otlp/http']!, gz, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }),
        );
      };
    }
    case 'proto-820x2000': {
      const proto = manyAttributesProto();
      return async (s, answers) => {
        answers.push(await post(s.endpoints['otlp/http']!, proto, PROTO));
      };
    }
    case 'grpc-16x-gzip':
    case 'grpc-16x-gzip-in-ratio': {
      // 19 KB each compressed (a ratio of 1,000), or about 260 KB (inside max_decompression_ratio).
      const message = hugeStringProto(undefined, name === 'grpc-16x-gzip' ? 0 : 200);
      return async (s, answers) => {
        const client = rawLogsClient(s.endpoints['otlp/grpc']!, grpc.credentials.createInsecure(), {
          'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
          'grpc.max_send_message_length': 32 * 1024 * 1024,
        });
        try {
          const results = await Promise.all(Array.from({ length: 16 }, () => exportRaw(client, message, 120_000)));
          for (const r of results) {
            answers.push(
              r.err ? { status: grpc.status[r.err.code] ?? String(r.err.code), body: r.err.details } : { status: 'OK' },
            );
          }
        } finally {
          client.close();
        }
      };
    }
    case 'valid-4x17.7MB': {
      const batches = Array.from({ length: 4 }, () => largeValidBatch());
      return async (s, answers, acknowledged) => {
        const deadline = Date.now() + 150_000;
        await Promise.all(
          batches.map(async ({ body, uuids }) => {
            const last = await postWithRetries(s.endpoints['otlp/http']!, body, deadline, answers);
            if (last.status === '200') acknowledged.push(...uuids);
          }),
        );
      };
    }
  }
}

/** uuids in the file exporter's output. */
export async function writtenUuids(dir: string): Promise<Set<string>> {
  const text = await readFile(join(dir, 'audit.jsonl'), 'utf8').catch(() => '');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    out.add((JSON.parse(line) as { message_uuid: string }).message_uuid);
  }
  return out;
}
