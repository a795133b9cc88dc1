/** Whether an error says the file system has no room left: no free blocks, no free inodes, or a quota. */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Runs a write that must not fail for lack of space (cursors, LOCK, exporter dead letters): if it
 * does, the storage's space reserve is released and the write is tried once more.
 */
export type WithRoom = <T>(what: string, write: () => Promise<T>) => Promise<T>;

/** Without a reserve: the write as it is. */
export const withoutReserve: WithRoom = (_what, write) => write();
