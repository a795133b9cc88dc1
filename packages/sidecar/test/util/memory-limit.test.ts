import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import {
  HEAP_SHARE,
  MIN_DERIVED_BUDGET,
  PROCESS_BASELINE_BYTES,
  cgroupMemoryLimit,
  deriveIntakeBudget,
} from '../../src/util/memory-limit.js';

const MiB = 1024 * 1024;

/** A fake root: `files` maps paths (relative to it) to contents. */
async function fakeRoot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'otel-audit-cgroup-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const V1_MOUNTS = `25 20 0:22 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
26 20 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
27 20 0:24 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const V2_MOUNTS = `30 20 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate
`;

describe('cgroup memory limit', () => {
  const roots: string[] = [];
  after(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });
  const root = async (files: Record<string, string>) => {
    const r = await fakeRoot(files);
    roots.push(r);
    return r;
  };

  it('reads cgroup v1 memory.limit_in_bytes of the own cgroup, the lowest up to the root', async () => {
    const r = await root({
      'proc/self/cgroup': '9:name=systemd:/\n4:memory:/pods/pod1/app\n1:cpu:/\n0::/\n',
      'proc/self/mountinfo': V1_MOUNTS,
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/pods/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/pods/pod1/memory.limit_in_bytes': `${256 * MiB}\n`,
      'sys/fs/cgroup/memory/pods/pod1/app/memory.limit_in_bytes': `${512 * MiB}\n`,
    });
    assert.equal(cgroupMemoryLimit(r), 256 * MiB);
  });

  it('reads cgroup v2 memory.max ("max" is no limit), also for a controller list like "memory,blkio" in v1', async () => {
    const v2 = await root({
      'proc/self/cgroup': '0::/kubepods/burstable/pod2/ctr\n',
      'proc/self/mountinfo': V2_MOUNTS,
      'sys/fs/cgroup/memory.max': 'max\n',
      'sys/fs/cgroup/kubepods/burstable/pod2/ctr/memory.max': `${768 * MiB}\n`,
    });
    assert.equal(cgroupMemoryLimit(v2), 768 * MiB);
    const unlimited = await root({
      'proc/self/cgroup': '0::/a\n',
      'proc/self/mountinfo': V2_MOUNTS,
      'sys/fs/cgroup/a/memory.max': 'max\n',
    });
    assert.equal(cgroupMemoryLimit(unlimited), undefined);
    const joined = await root({
      'proc/self/cgroup': '5:blkio,memory:/x\n',
      'proc/self/mountinfo': '25 20 0:22 / /cg/mem rw - cgroup cgroup rw,blkio,memory\n',
      'cg/mem/x/memory.limit_in_bytes': `${100 * MiB}\n`,
    });
    assert.equal(cgroupMemoryLimit(joined), 100 * MiB);
  });

  it('finds the limit in a cgroup namespace, where the mount shows the own cgroup as its root', async () => {
    const r = await root({
      'proc/self/cgroup': '4:memory:/docker/abc\n',
      'proc/self/mountinfo': '25 20 0:22 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': `${300 * MiB}\n`,
    });
    assert.equal(cgroupMemoryLimit(r), 300 * MiB);
  });

  it('is undefined without cgroup files', async () => {
    assert.equal(cgroupMemoryLimit(await root({})), undefined);
  });

  it('derives the budget: half of what the limit leaves after the process and the spool cache, at most a share of the heap', () => {
    const heap = getHeapStatistics().heap_size_limit;
    const at256 = deriveIntakeBudget(64 * MiB, 256 * MiB);
    const expected = (256 * MiB - PROCESS_BASELINE_BYTES - 64 * MiB) / 2;
    assert.equal(at256.bytes, Math.floor(Math.min(expected, heap * HEAP_SHARE)));
    assert.match(at256.from, /cgroup memory limit of 256 MiB/);
    assert.equal(deriveIntakeBudget(64 * MiB, 128 * MiB).bytes, MIN_DERIVED_BUDGET);
    const huge = deriveIntakeBudget(0, 1024 * 1024 * MiB);
    assert.equal(huge.bytes, Math.floor(heap * HEAP_SHARE));
    assert.match(huge.from, /V8 heap limit/);
  });
});
