import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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

export interface LockTimings {
  /** How often the holder touches the lock file. */
  readonly heartbeatMs: number;
  /** A lock file untouched this long belongs to a process that is gone. */
  readonly staleMs: number;
}

const DEFAULT_TIMINGS: LockTimings = { heartbeatMs: 5_000, staleMs: 20_000 };

/**
 * The PID namespace (Linux: `pid:[inode]`). Containers of one Kubernetes pod share the host name
 * but usually not the PID namespace, so a pid only says something about a holder in the same one.
 */
const ownPidNamespace: string = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
})();

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly pidNamespace: string;
  readonly mtimeMs: number;
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const [text, s] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const [pid, host, pidNamespace] = text.split('\n');
    return { pid: Number(pid), host: host ?? '', pidNamespace: pidNamespace ?? '', mtimeMs: s.mtimeMs };
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

/** Whether the holder's pid can be checked from here: same host and same PID namespace. */
function pidVisible(info: LockInfo): boolean {
  return info.host === hostname() && info.pidNamespace === ownPidNamespace;
}

/**
 * Whether the lock's holder runs, as far as can be told now: by its pid where that is visible,
 * otherwise by a heartbeat younger than `staleMs`.
 */
function held(info: LockInfo, timings: LockTimings): boolean {
  if (pidVisible(info))
    return info.pid !== process.pid && Number.isInteger(info.pid) && info.pid > 0 && alive(info.pid);
  return Date.now() - info.mtimeMs < timings.staleMs;
}

function describeHolder(info: LockInfo): string {
  return info.host === hostname() ? `process ${info.pid}` : `process ${info.pid} on ${info.host}`;
}

/**
 * A holder judged by its heartbeat: watches the lock until it is touched again (the holder runs:
 * true) or gets stale (false). A process restarted in a new container of the same pod after a crash
 * thus starts once its predecessor's lock is stale, instead of failing until then.
 */
async function heartbeatContinues(path: string, first: LockInfo, timings: LockTimings): Promise<boolean> {
  const poll = Math.max(10, Math.min(500, timings.heartbeatMs / 4));
  for (;;) {
    await sleep(poll);
    const now = await readLock(path);
    if (now === undefined) return false;
    if (now.mtimeMs !== first.mtimeMs || now.pid !== first.pid || now.host !== first.host) return true;
    if (Date.now() - now.mtimeMs >= timings.staleMs) return false;
  }
}

export interface LockOptions {
  /** Called once when the start waits for another holder's heartbeat to stop. */
  readonly onWait?: (holder: string, maxWaitMs: number) => void;
  readonly timings?: LockTimings;
}

/**
 * Takes the directory's lock file (`LOCK`: pid, host name and PID namespace, kept fresh by a
 * heartbeat); a lock left by a process that is gone is taken over. Returns the release function.
 */
export async function lockDirectory(directory: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const timings = options.timings ?? DEFAULT_TIMINGS;
  const path = join(directory, 'LOCK');
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n${hostname()}\n${ownPidNamespace}\n`);
      await fh.sync();
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = await readLock(path);
      if (info !== undefined && held(info, timings)) {
        if (pidVisible(info)) throw new StorageLockedError(directory, describeHolder(info));
        options.onWait?.(describeHolder(info), Math.max(0, timings.staleMs - (Date.now() - info.mtimeMs)));
        if (await heartbeatContinues(path, info, timings))
          throw new StorageLockedError(directory, describeHolder(info));
      }
      if (attempt > 2) throw new StorageLockedError(directory, 'another process (the lock keeps coming back)');
      await unlink(path).catch(() => undefined); // left by a process that is gone
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
  }, timings.heartbeatMs);
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    await unlink(path).catch(() => undefined);
  };
}

/** Who holds the lock, if a running process (or one whose heartbeat is still fresh) holds it. */
export async function lockHolder(directory: string): Promise<string | undefined> {
  const info = await readLock(join(directory, 'LOCK'));
  return info !== undefined && held(info, DEFAULT_TIMINGS) ? describeHolder(info) : undefined;
}
