import { open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The storage directory is used by one process at a time; a second sidecar must not share it. */
export class StorageLockedError extends Error {
  override readonly name = 'StorageLockedError';
  constructor(
    readonly directory: string,
    readonly pid: number,
  ) {
    super(
      `storage directory ${directory} is in use by process ${pid}; ` +
        `if no otel-audit process uses it, remove ${join(directory, 'LOCK')}`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock file (`LOCK`, holding the pid); a lock left by a dead process is taken over. */
export async function lockDirectory(directory: string): Promise<() => Promise<void>> {
  const path = join(directory, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.sync();
      await fh.close();
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new StorageLockedError(directory, pid);
      // Stale (its process is gone, e.g. after a crash): take it over.
      await unlink(path).catch(() => undefined);
    }
  }
  await writeFile(path, String(process.pid));
  return () => unlink(path).catch(() => undefined);
}

/** The pid holding the lock, if a live process holds it. */
export async function lockHolder(directory: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(directory, 'LOCK'), 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
}
