import { hostname } from 'node:os';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';

/** The storage directory is used by one process at a time; a second sidecar must not share it. */
export class StorageLockedError extends Error {
  override readonly name = 'StorageLockedError';
  constructor(
    readonly directory: string,
    readonly holder: string,
  ) {
    super(
      `storage directory ${directory} is in use by ${holder}; ` +
        `if no otel-audit process uses it, remove ${join(directory, 'LOCK')}`,
    );
  }
}

/** The holder touches the lock this often; a lock untouched for STALE_MS belongs to a dead process. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 20_000;

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly ageMs: number;
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const [text, s] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const [pid, host] = text.split('\n');
    return { pid: Number(pid), host: host ?? '', ageMs: Date.now() - s.mtimeMs };
  } catch {
    return undefined;
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

/**
 * Whether the lock's holder runs. On this host (same hostname: same container or machine) the pid
 * says; a holder elsewhere sharing the volume (another container) is judged by the heartbeat.
 */
function held(info: LockInfo): boolean {
  if (info.host === hostname())
    return info.pid !== process.pid && Number.isInteger(info.pid) && info.pid > 0 && alive(info.pid);
  return info.ageMs < STALE_MS;
}

function describeHolder(info: LockInfo): string {
  return info.host === hostname() ? `process ${info.pid}` : `process ${info.pid} on ${info.host}`;
}

/**
 * Takes the directory's lock file (`LOCK`: pid and host name, kept fresh by a heartbeat); a lock
 * left by a process that is gone is taken over. Returns the release function.
 */
export async function lockDirectory(directory: string): Promise<() => Promise<void>> {
  const path = join(directory, 'LOCK');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n${hostname()}\n`);
      await fh.sync();
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await readLock(path);
      if (info !== undefined && held(info)) throw new StorageLockedError(directory, describeHolder(info));
      if (attempt > 2) throw new StorageLockedError(directory, 'another process (the lock keeps coming back)');
      await unlink(path).catch(() => undefined); // left by a process that is gone
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    await unlink(path).catch(() => undefined);
  };
}

/** Who holds the lock, if a running process holds it. */
export async function lockHolder(directory: string): Promise<string | undefined> {
  const info = await readLock(join(directory, 'LOCK'));
  return info !== undefined && held(info) ? describeHolder(info) : undefined;
}
