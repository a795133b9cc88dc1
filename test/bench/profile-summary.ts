/**
 * Where the time of a profiled sidecar went, by stage of the data path (not a test).
 *
 *   node test/dist/bench/profile-summary.js FILE.cpuprofile [--top=25] [--folded=OUT] [--all]
 *
 * Reads a `.cpuprofile` (`node --cpu-prof`, e.g. from `otlp-http-file.bench.js --cpu-prof=DIR`) and
 * prints, for the busy part of the run (the seconds in which the process was busy at least 60 % of
 * the time; `--all`: the whole profile): the time per stage (receive, decode/validate/map, spool
 * write, spool read, delivery, file export, cursors, GC, idle, ...), the functions with the most self
 * time and the most total time. A sample belongs to the stage of the innermost otel-audit component
 * function on its stack, so Node internals and shared helpers (storage/, util/) count for the stage
 * that called them. `--folded=OUT` writes the
 * samples as folded stacks (`a;b;c <µs>`), which flame graph tools read (speedscope, inferno,
 * flamegraph.pl).
 */
import { writeFile } from 'node:fs/promises';
import { numberOption, stringOption } from './bench-args.js';
import { frameName, readCpuProfile, type CpuProfile } from './cpu-profile.js';

/** Stages by the otel-audit function and source file of a frame (`name file:line`; first match wins). */
const STAGES: readonly [string, RegExp][] = [
  ['receive (OTLP/HTTP, OTLP/gRPC)', /sidecar\/dist\/src\/receivers\//],
  ['decode, validate, map (fast path)', /sidecar\/dist\/src\/pipeline\/(fast\/|proto-pipeline)/],
  ['decode, validate, map (reference)', /sidecar\/dist\/src\/(pipeline\/|otlp\/)|semconv\/dist\//],
  ['spool cursors', /sidecar\/dist\/src\/spool\/cursors/],
  ['spool read', /sidecar\/dist\/src\/spool\/reader|^(decodePayload|parseEntry|get json) /],
  ['spool write', /sidecar\/dist\/src\/spool\//],
  ['delivery (exporter queue)', /sidecar\/dist\/src\/delivery\//],
  ['file exporter (chain, write)', /sidecar\/dist\/src\/exporters\/file\//],
  ['other exporters', /sidecar\/dist\/src\/exporters\//],
  // Shared helpers (storage/, util/, model/, telemetry/) count for the component that called them.
  ['other otel-audit', /(sidecar\/dist\/src\/(?!storage\/|util\/|model\/|telemetry\/)|semconv\/dist\/)/],
];

function stageOf(stack: readonly string[], leaf: string): string {
  if (leaf === '(garbage collector)') return 'garbage collector';
  if (leaf === '(idle)') return 'idle';
  if (leaf === '(program)') return 'program (V8, native)';
  for (const frame of stack) {
    for (const [stage, re] of STAGES) if (re.test(frame)) return stage;
  }
  return 'Node.js (sockets, HTTP parser, timers, ...)';
}

interface Sample {
  readonly at: number;
  readonly micros: number;
  /** Leaf first. */
  readonly stack: readonly string[];
}

function samples(profile: CpuProfile): Sample[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map<number, string[]>();
  const stackOf = (id: number): string[] => {
    let s = stacks.get(id);
    if (s === undefined) {
      s = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const node = byId.get(at);
        if (node !== undefined && node.callFrame.functionName !== '(root)') s.push(frameName(node.callFrame));
      }
      stacks.set(id, s);
    }
    return s;
  };
  const out: Sample[] = [];
  let t = profile.startTime;
  // A sample lasts until the next one: timeDeltas[i + 1] belongs to samples[i].
  for (let i = 0; i + 1 < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    out.push({ at: t, micros: profile.timeDeltas[i + 1]!, stack: stackOf(profile.samples[i]!) });
  }
  return out;
}

/** The samples of the seconds in which the process was busy (not idle) at least 60 % of the time, first to last. */
function busyWindow(all: readonly Sample[]): Sample[] {
  if (all.length === 0) return [];
  const start = all[0]!.at;
  const busy = new Map<number, { busy: number; total: number }>();
  for (const s of all) {
    const second = Math.floor((s.at - start) / 1e6);
    const b = busy.get(second) ?? { busy: 0, total: 0 };
    b.total += s.micros;
    if (s.stack[0] !== '(idle)') b.busy += s.micros;
    busy.set(second, b);
  }
  const seconds = [...busy].filter(([, b]) => b.busy >= 0.6 * b.total).map(([second]) => second);
  if (seconds.length === 0) return [...all];
  const from = Math.min(...seconds);
  const to = Math.max(...seconds);
  return all.filter((s) => {
    const second = Math.floor((s.at - start) / 1e6);
    return second >= from && second <= to;
  });
}

function table(title: string, totals: Map<string, number>, total: number, top: number): void {
  console.log(`\n${title}`);
  for (const [name, micros] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `  ${(micros / 1000).toFixed(0).padStart(7)} ms ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${name}`,
    );
  }
}

async function main(): Promise<void> {
  const file = process.argv.slice(2).find((a) => !a.startsWith('--'));
  if (file === undefined)
    throw new Error('usage: profile-summary.js FILE.cpuprofile [--top=25] [--folded=OUT] [--all]');
  const top = numberOption('top', 25);
  const all = samples(await readCpuProfile(file));
  const window = process.argv.includes('--all') ? all : busyWindow(all);
  const total = window.reduce((n, s) => n + s.micros, 0);
  console.log(
    `${file}: ${(total / 1e6).toFixed(1)} s of ${(all.reduce((n, s) => n + s.micros, 0) / 1e6).toFixed(1)} s ` +
      `(${process.argv.includes('--all') ? 'all of it' : 'the busy part'})`,
  );
  const stages = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const s of window) {
    const leaf = s.stack[0] ?? '(unknown)';
    const stage = stageOf(s.stack, leaf);
    stages.set(stage, (stages.get(stage) ?? 0) + s.micros);
    self.set(leaf, (self.get(leaf) ?? 0) + s.micros);
    for (const frame of new Set(s.stack)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + s.micros);
  }
  table('by stage (innermost otel-audit function on the stack)', stages, total, 20);
  table(`top ${top} functions by self time`, self, total, top);
  table(`top ${top} functions by total time (self and callees)`, inclusive, total, top);
  const folded = stringOption('folded');
  if (folded !== undefined) {
    const stacks = new Map<string, number>();
    for (const s of window) {
      const key = [...s.stack].reverse().join(';');
      stacks.set(key, (stacks.get(key) ?? 0) + s.micros);
    }
    await writeFile(folded, [...stacks].map(([k, v]) => `${k} ${Math.round(v)}`).join('\n') + '\n');
    console.log(`\nfolded stacks (µs) written to ${folded}`);
  }
}

await main();
