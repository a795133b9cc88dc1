import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';

/** Values at or above this mean "no limit" (cgroup v1 writes the largest page-aligned int64). */
const UNLIMITED = 2 ** 60;

/**
 * The memory limit of this process's cgroup in bytes, or undefined when there is none: cgroup v2's
 * `memory.max` or cgroup v1's `memory.limit_in_bytes`, of the process's own cgroup (found through
 * `/proc/self/cgroup` and `/proc/self/mountinfo`) and of its ancestors up to the mount's root,
 * whichever is lowest (a container's limit may sit on a parent). `root` prefixes every path, for tests.
 */
export function cgroupMemoryLimit(root = '/'): number | undefined {
  const cgroups = read(join(root, 'proc/self/cgroup'));
  const mounts = read(join(root, 'proc/self/mountinfo'));
  if (cgroups === undefined || mounts === undefined) return undefined;
  let v1Path: string | undefined;
  let v2Path: string | undefined;
  for (const line of cgroups.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === '' && line.slice(0, first) === '0') v2Path = path;
    else if (controllers.split(',').includes('memory')) v1Path = path;
  }
  // With both (a hybrid host), the memory controller is on whichever hierarchy has it: v1 if listed.
  if (v1Path !== undefined) {
    const mount = findMount(mounts, (type, options) => type === 'cgroup' && options.split(',').includes('memory'));
    if (mount !== undefined) return lowestLimit(root, mount, v1Path, 'memory.limit_in_bytes');
  }
  if (v2Path !== undefined) {
    const mount = findMount(mounts, (type) => type === 'cgroup2');
    if (mount !== undefined) return lowestLimit(root, mount, v2Path, 'memory.max');
  }
  return undefined;
}

interface Mount {
  /** The cgroup path the mount shows at its mount point (`/` unless a cgroup namespace or bind mount). */
  readonly root: string;
  readonly point: string;
}

/** mountinfo: `id parent major:minor root mount-point options optional... - type source super-options`. */
function findMount(mountinfo: string, match: (type: string, superOptions: string) => boolean): Mount | undefined {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6 || fields.length < dash + 4) continue;
    if (match(fields[dash + 1]!, fields[dash + 3]!)) return { root: unescape(fields[3]!), point: unescape(fields[4]!) };
  }
  return undefined;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function lowestLimit(root: string, mount: Mount, cgroupPath: string, file: string): number | undefined {
  // The cgroup's path relative to what the mount shows; a namespace may show our own cgroup as `/`.
  let relative = cgroupPath;
  if (mount.root !== '/' && (relative === mount.root || relative.startsWith(`${mount.root}/`))) {
    relative = relative.slice(mount.root.length);
  }
  const parts = relative.split('/').filter((p) => p !== '' && p !== '..' && p !== '.');
  let lowest: number | undefined;
  for (let depth = parts.length; depth >= 0; depth--) {
    const text = read(join(root, mount.point, ...parts.slice(0, depth), file));
    if (text === undefined) continue;
    const value = text.trim() === 'max' ? Infinity : Number(text.trim());
    if (Number.isFinite(value) && value > 0 && value < UNLIMITED) lowest = Math.min(lowest ?? value, value);
  }
  return lowest;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * What the process needs besides requests in flight and the spool's cache: Node, the sidecar's
 * code and state, the exporters' batches and the garbage collector's young generation (the
 * sidecar's RSS at rest is about 80 MiB on Node 20).
 */
export const PROCESS_BASELINE_BYTES = 96 * 1024 * 1024;

/** Share of V8's heap limit the intake may hold: decoded records live on the heap. */
export const HEAP_SHARE = 0.4;

/** The derived budget is never smaller (a smaller one would refuse ordinary requests). */
export const MIN_DERIVED_BUDGET = 8 * 1024 * 1024;

export interface DerivedBudget {
  readonly bytes: number;
  /** What the budget was derived from, for the start-up log. */
  readonly from: string;
}

/**
 * The default intake memory budget: half of what the memory limit (the cgroup's, or the machine's
 * without one) leaves after {@link PROCESS_BASELINE_BYTES} and the spool's cache (`reservedBytes`),
 * and at most {@link HEAP_SHARE} of V8's heap limit. Half, because memory a request gave back is
 * garbage until the collector runs, while the next request may already hold it again.
 */
export function deriveIntakeBudget(
  reservedBytes: number,
  limit: number | undefined = cgroupMemoryLimit(),
): DerivedBudget {
  const memory = limit ?? totalmem();
  const heap = getHeapStatistics().heap_size_limit;
  const fromMemory = (memory - PROCESS_BASELINE_BYTES - reservedBytes) / 2;
  const fromHeap = heap * HEAP_SHARE;
  const source = `${limit === undefined ? 'machine memory' : 'cgroup memory limit'} of ${mib(memory)}`;
  const derived =
    fromHeap < fromMemory
      ? { bytes: fromHeap, from: `${HEAP_SHARE * 100}% of the V8 heap limit of ${mib(heap)}` }
      : {
          bytes: fromMemory,
          from: `half the ${source} less ${mib(PROCESS_BASELINE_BYTES + reservedBytes)} for the process and the spool cache`,
        };
  return { bytes: Math.floor(Math.max(MIN_DERIVED_BUDGET, derived.bytes)), from: derived.from };
}

function mib(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}
