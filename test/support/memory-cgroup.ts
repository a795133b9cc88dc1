import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Where cgroup v1's memory controller is mounted on the machines the suite runs on. */
const V1_MEMORY_ROOT = '/sys/fs/cgroup/memory';

/**
 * A memory cgroup (v1) made for one test: processes started through {@link wrapper} run under
 * its limit and are OOM-killed by the kernel past it, as in a container. Remove it with `remove`
 * once every process in it has exited.
 */
export interface MemoryCgroup {
  readonly path: string;
  readonly limitBytes: number;
  /** Command prefix that moves the started process into the cgroup before it runs (`sh -c`). */
  readonly wrapper: string[];
  /** Times the kernel's OOM killer ran in this cgroup. */
  oomKills(): Promise<number>;
  /** Removes the cgroup (waits briefly for its processes to be gone). */
  remove(): Promise<void>;
}

/**
 * Why memory cgroups cannot be made here, or undefined when they can: the suite needs cgroup v1's
 * memory controller, writable (root), as on these machines.
 */
export async function memoryCgroupUnavailable(): Promise<string | undefined> {
  try {
    await access(join(V1_MEMORY_ROOT, 'memory.limit_in_bytes'), constants.R_OK);
  } catch {
    return `no cgroup v1 memory controller at ${V1_MEMORY_ROOT}; run this suite as root on a host with cgroup v1 (or hybrid) mounted there`;
  }
  const parent = await ownMemoryCgroup();
  try {
    await access(parent, constants.W_OK);
  } catch {
    return `${parent} is not writable; run this suite as root (memory cgroups are created below it)`;
  }
  return undefined;
}

/** This process's own memory cgroup directory: test cgroups go below it, so they nest under its limits. */
async function ownMemoryCgroup(): Promise<string> {
  const lines = (await readFile('/proc/self/cgroup', 'utf8')).split('\n');
  for (const line of lines) {
    const [, controllers, path] = line.split(':');
    if (controllers !== undefined && controllers.split(',').includes('memory') && path !== undefined) {
      const dir = join(V1_MEMORY_ROOT, path);
      try {
        await access(join(dir, 'memory.limit_in_bytes'));
        return dir;
      } catch {
        return V1_MEMORY_ROOT; // a cgroup namespace: the mount shows our own cgroup as its root
      }
    }
  }
  return V1_MEMORY_ROOT;
}

export async function createMemoryCgroup(name: string, limitBytes: number): Promise<MemoryCgroup> {
  const path = join(await ownMemoryCgroup(), `${name}-${process.pid}-${Date.now()}`);
  await mkdir(path);
  const cgroup: MemoryCgroup = {
    path,
    limitBytes,
    // `$0` is the command that follows (node), `$@` its arguments.
    wrapper: ['sh', '-c', `echo $$ > ${path}/cgroup.procs && exec "$0" "$@"`],
    async oomKills() {
      const text = await readFile(join(path, 'memory.oom_control'), 'utf8').catch(() => '');
      return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0);
    },
    async remove() {
      for (let i = 0; ; i++) {
        try {
          await rmdir(path);
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return;
          if (code !== 'EBUSY' || i >= 100) throw err;
          await delay(50);
        }
      }
    },
  };
  try {
    await writeFile(join(path, 'memory.limit_in_bytes'), String(limitBytes));
    // Without swap accounting the limit above is all; with it, swap must not extend the limit.
    await writeFile(join(path, 'memory.memsw.limit_in_bytes'), String(limitBytes)).catch(() => undefined);
  } catch (err) {
    await cgroup.remove();
    throw err;
  }
  return cgroup;
}
