import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Command prefixes that pin the measured server and the load generator to different CPUs. */
export interface Pinning {
  readonly target: readonly string[];
  readonly load: readonly string[];
  readonly description: string;
}

export function detectPinning(): Pinning {
  const usable = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '1', 'true']).status === 0;
  if (usable) {
    return {
      target: ['taskset', '-c', '0'],
      load: ['taskset', '-c', '1'],
      description: 'server pinned to CPU 0, load generator to CPU 1 (taskset)',
    };
  }
  return {
    target: [],
    load: [],
    description:
      'NOT PINNED: taskset is unavailable or there are fewer than 2 CPUs; server and load generator share the CPUs',
  };
}

/** A compiled sibling script of this directory (`load-generator.js`...). */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/** Runs a Node script with this Node binary, behind the given command prefix (e.g. taskset). */
export function spawnNode(
  prefix: readonly string[],
  script: string,
  args: readonly string[],
  options: { env?: Record<string, string>; nodeArgs?: readonly string[] } = {},
): ChildProcess {
  const [command, ...rest] = [...prefix, process.execPath, ...(options.nodeArgs ?? []), script, ...args];
  return spawn(command!, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
}

/** The first line the child prints on stdout; rejects with its stderr if it ends without one. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('close', (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) without output:\n${stderr}`)),
    );
  });
}

/** SIGTERM, then resolves when the child is gone. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** User + system CPU seconds of a process so far, all its threads (Linux `/proc/<pid>/stat`; clock ticks of 10 ms). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Lines a child prints on stdout, in order; rejects (with its stderr) if it ends before the next one. */
export function lineReader(child: ChildProcess): () => Promise<string> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  let waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | undefined;
  let ended: Error | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (waiting === undefined) lines.push(line);
    else {
      waiting.resolve(line);
      waiting = undefined;
    }
  });
  child.once('close', (code, signal) => {
    ended = new Error(`child exited (${code ?? signal}) without output:\n${stderr}`);
    waiting?.reject(ended);
  });
  return () =>
    new Promise((resolve, reject) => {
      const line = lines.shift();
      if (line !== undefined) resolve(line);
      else if (ended !== undefined) reject(ended);
      else waiting = { resolve, reject };
    });
}

/** The process's peak resident set size in MiB (Linux `VmHWM`), or undefined where unknown. */
export async function peakRssMiB(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}

/**
 * The sidecar's node flags for a benchmark: `--sidecar-node-args="..."` (space-separated; empty
 * for none, i.e. Node's defaults), else `fallback`.
 */
export function sidecarNodeArgs(option: string | undefined, fallback: readonly string[]): readonly string[] {
  return option === undefined ? fallback : option.split(/\s+/).filter((a) => a !== '');
}
