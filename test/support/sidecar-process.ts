import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exitOf, stopChild } from './child.js';
import { SIDECAR_CLI } from './paths.js';

export interface SidecarProcess {
  readonly child: ChildProcess;
  /** `otlp/http`, `telemetry`, ... → `host:port`, from the "otel-audit started" log line. */
  readonly endpoints: Record<string, string>;
  /** Every log line printed so far (stdout and stderr). */
  readonly output: string[];
  /**
   * Sends a signal and resolves with the exit code (or signal name); SIGKILL if it is still
   * running 30 s later (longer than the default shutdown_timeout), so a hung shutdown fails.
   */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** For cleanups: SIGTERM unless it has exited, SIGKILL 2 s later, resolves once it is gone. */
  kill(): Promise<void>;
  /** Resolves when the process has exited. */
  exited: Promise<number | string>;
}

/**
 * The node flags the Helm chart gives a gateway (`gateway.nodeOptions`, as NODE_OPTIONS;
 * test/helm/chart.test.ts keeps the two in line). A larger young generation cuts the garbage
 * collector's share of the hot path at the cost of memory; see docs/benchmarks.md.
 */
export const GATEWAY_NODE_ARGS: readonly string[] = ['--max-semi-space-size=64'];

export interface SidecarOptions {
  /** YAML config text; written to `<dir>/config.yaml`. */
  readonly config: string;
  /** Working directory (relative paths in the config resolve against it). */
  readonly dir: string;
  readonly env?: Record<string, string>;
  /** Extra node arguments, e.g. `--import` of a shim. */
  readonly nodeArgs?: string[];
  /** The entry script taking `run --config FILE` (default: the otel-audit CLI). */
  readonly entry?: string;
  /** Prefix the command, e.g. `['taskset', '-c', '0']`. */
  readonly wrapper?: string[];
  readonly startTimeoutMs?: number;
}

/** Starts `otel-audit run --config` as a child process and waits until it is listening. */
export async function startSidecar(options: SidecarOptions): Promise<SidecarProcess> {
  const configPath = join(options.dir, 'config.yaml');
  await writeFile(configPath, options.config);
  const args = [...(options.nodeArgs ?? []), options.entry ?? SIDECAR_CLI, 'run', '--config', configPath];
  const [cmd, ...pre] =
    options.wrapper && options.wrapper.length > 0 ? [...options.wrapper, process.execPath] : [process.execPath];
  const child = spawn(cmd, [...pre, ...args], {
    cwd: options.dir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = exitOf(child);
  const starting = new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`sidecar did not start within ${options.startTimeoutMs ?? 15000} ms:\n${output.join('\n')}`)),
      options.startTimeoutMs ?? 15000,
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output.push(line);
        if (line.includes('"otel-audit started"')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { endpoints: Record<string, string> }).endpoints);
        }
      });
    }
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sidecar exited (${code}) before it started:\n${output.join('\n')}`));
    });
  });
  // A sidecar that did not start (in time) is not left running.
  const endpoints = await starting.catch(async (err: unknown) => {
    await stopChild(child, exited, 'SIGKILL');
    throw err;
  });
  return {
    child,
    endpoints,
    output,
    exited,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopChild(child, exited, signal),
    kill: async () => {
      await stopChild(child, exited, 'SIGTERM', 2000);
    },
  };
}

/** Config YAML with the OTLP/HTTP receiver on an ephemeral loopback port and the given exporters. */
export function httpConfig(options: {
  exporters: string;
  exporterIds: string[];
  storage?: string;
  telemetry?: boolean;
  extraHttp?: string;
}): string {
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0${options.extraHttp ? `\n${options.extraHttp}` : ''}
exporters:
${options.exporters}
extensions:
  storage:
    directory: ${options.storage ?? './spool'}
service:
${options.telemetry === false ? '' : '  telemetry:\n    address: 127.0.0.1:0\n'}  pipelines:
    audit:
      receivers: [otlp]
      exporters: [${options.exporterIds.join(', ')}]
`;
}
