import { statfs } from 'node:fs/promises';
import type { DirectoryLock } from './lock.js';
import type { SpaceReserve } from './reserve.js';
import { withoutReserve, type WithRoom } from './space.js';

/**
 * What the stores (spool, dead letters) check before they write to the storage directory: that
 * this process still holds its lock (fencing: one stat, before every group commit and again before
 * it is acknowledged), and that there is room, with the space reserve for writes that free space.
 */
export interface StorageGuard {
  /** Throws LockLostError once another process has taken the storage over. */
  assertHeld(): void;
  /** Runs a write that must not fail for lack of space; see {@link WithRoom}. */
  readonly withRoom: WithRoom;
  /** Before new data takes space: refills a used reserve first (undefined when there is nothing to wait for). */
  beforeNewData(): Promise<void> | undefined;
  /** Space was freed (segments deleted): a good moment to refill the reserve. */
  spaceFreed(): void;
}

/** A guard made of the directory's lock and its space reserve (either may be absent, e.g. in tests). */
export function storageGuard(lock: DirectoryLock | undefined, reserve: SpaceReserve | undefined): StorageGuard {
  return {
    assertHeld: lock === undefined ? () => undefined : () => lock.assertHeld(),
    withRoom: reserve?.withRoom ?? withoutReserve,
    beforeNewData: () => reserve?.beforeNewData(),
    spaceFreed: () => {
      if (reserve?.isUsed()) void reserve.refill().catch(() => undefined);
    },
  };
}

/** Whether the file system of `dir` has `bytes` bytes and an inode free (statfs; true when it cannot tell). */
export async function hasRoom(dir: string, bytes: number): Promise<boolean> {
  try {
    const s = await statfs(dir);
    // Some file systems report no inode counts at all (files = 0): no inode limit to check.
    const inodes = s.files === 0 || s.ffree > 0;
    return inodes && s.bavail * s.bsize >= bytes;
  } catch {
    return true;
  }
}
