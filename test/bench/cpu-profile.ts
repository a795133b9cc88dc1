import { readFile } from 'node:fs/promises';
import { REPO_ROOT } from '../support/paths.js';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) the benchmarks read. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: CallFrame;
    readonly children?: readonly number[];
  }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

export interface SelfTime {
  readonly fn: string;
  readonly ms: number;
  readonly percent: number;
}

export async function readCpuProfile(file: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
}

/** `function file:line`, with paths relative to the repository (or to node_modules). */
export function frameName(frame: CallFrame): string {
  const fn = frame.functionName || '(anonymous)';
  if (frame.url === '') return fn;
  const url = frame.url.replace(`file://${REPO_ROOT}`, '').replace(/^.*\/node_modules\//, '');
  return `${fn} ${url}:${frame.lineNumber + 1}`;
}

/** Functions by self time (time spent in the function itself, not its callees), highest first. */
export async function topSelfTime(file: string, count: number): Promise<SelfTime[]> {
  const profile = await readCpuProfile(file);
  const nameOf = new Map(profile.nodes.map((n) => [n.id, frameName(n.callFrame)]));
  const micros = new Map<string, number>();
  let total = 0;
  // A sample lasts until the next one: timeDeltas[i + 1] belongs to samples[i].
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    const name = nameOf.get(profile.samples[i]!) ?? '(unknown)';
    const dt = profile.timeDeltas[i + 1]!;
    micros.set(name, (micros.get(name) ?? 0) + dt);
    total += dt;
  }
  return [...micros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, us]) => ({ fn, ms: us / 1000, percent: (100 * us) / total }));
}
