import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { syncDir } from './fs-util.js';
import { isOutOfSpace, withoutReserve, type WithRoom } from './space.js';

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

/** This process's lock was taken over (or removed): it must not write to the storage any more. */
export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

export interface LockTimings {
  /** How often the holder touches the lock file. */
  readonly heartbeatMs: number;
  /** A lock file untouched this long belongs to a process that is gone (or frozen). */
  readonly staleMs: number;
}

export const DEFAULT_LOCK_TIMINGS: LockTimings = { heartbeatMs: 5_000, staleMs: 20_000 };

/** What the lock reports (the service logs it); storage/ does not depend on the logger. */
export interface LockEvents {
  /** The start waits for another holder's heartbeat to stop (called once). */
  readonly onWait?: (holder: string, maxWaitMs: number) => void;
  /** A LOCK was taken over: its holder is gone (`why`); `unverified` when only its heartbeat said so. */
  readonly onTakeover?: (holder: string, why: string, unverified: boolean) => void;
}

export interface LockOptions extends LockEvents {
  readonly timings?: LockTimings;
  /** Makes room (releases the space reserve) when the LOCK cannot be written for lack of space. */
  readonly withRoom?: WithRoom;
}

/*
 * LOCK holds lines: pid, host name, PID namespace (Linux `pid:[inode]`), the process's start time
 * (clock ticks since boot, /proc/<pid>/stat field 22), the boot id, and a random token. Versions
 * before the start time wrote the first three (and the first two before the namespace).
 */

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Start time of a process in clock ticks since boot (with the pid, unique on this boot). */
function startTimeOf(pid: number | 'self'): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

const own = {
  pidNamespace: (() => {
    try {
      return readlinkSync('/proc/self/ns/pid');
    } catch {
      return '';
    }
  })(),
  startTime: startTimeOf('self') ?? '',
  bootId: (readProc('/proc/sys/kernel/random/boot_id') ?? '').trim(),
};

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly pidNamespace: string;
  readonly startTime: string | undefined;
  readonly bootId: string | undefined;
}

/** The LOCK as found: its bytes, its identity on disk and, if they make sense, the holder they name. */
interface LockFile {
  readonly raw: string;
  readonly holder: Holder | undefined;
  readonly ino: number;
  readonly dev: number;
  readonly mtimeMs: number;
}

const PID = /^[1-9][0-9]{0,9}$/;
const NAMESPACE = /^(pid:\[[0-9]+\])?$/;
const HOST = /^[\x21-\x7e]{1,255}$/;

/** The holder a LOCK names, or undefined when its content is not a LOCK (empty, NUL bytes, garbage, torn). */
export function parseLock(raw: string): Holder | undefined {
  const [pid, host, pidNamespace, startTime, bootId] = raw.split('\n');
  if (pid === undefined || !PID.test(pid) || host === undefined || !HOST.test(host)) return undefined;
  if (pidNamespace !== undefined && !NAMESPACE.test(pidNamespace)) return undefined;
  return {
    pid: Number(pid),
    host,
    pidNamespace: pidNamespace ?? '',
    startTime: startTime !== undefined && /^[0-9]+$/.test(startTime) ? startTime : undefined,
    bootId: bootId !== undefined && /^[0-9a-f-]{8,64}$/.test(bootId) ? bootId : undefined,
  };
}

async function readLock(path: string): Promise<LockFile | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const s = await fh.stat();
    // A LOCK is a few lines; read no more than that of whatever is there.
    const buf = Buffer.alloc(Math.min(s.size, 4096));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const raw = buf.toString('utf8', 0, bytesRead);
    return { raw, holder: parseLock(raw), ino: s.ino, dev: s.dev, mtimeMs: s.mtimeMs };
  } finally {
    await fh.close();
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
function pidVisible(h: Holder): boolean {
  return h.host === hostname() && h.pidNamespace === own.pidNamespace;
}

/** For a LOCK written before the start time was recorded: whether the live pid looks like otel-audit (node). */
function looksLikeOtelAudit(pid: number): boolean {
  const cmdline = readProc(`/proc/${pid}/cmdline`);
  if (cmdline === undefined) return true; // cannot tell: assume it is
  const args = cmdline.split('\0');
  const exe = (args[0] ?? '').split('/').pop() ?? '';
  return exe.startsWith('node') || args.some((a) => a.includes('otel-audit'));
}

type Verdict =
  /** The holder runs (checked by its pid): refuse. */
  | { readonly kind: 'running'; readonly holder: string }
  /** The holder is gone (checked by its pid): take over. */
  | { readonly kind: 'gone'; readonly holder: string; readonly why: string }
  /** Cannot be checked from here: the holder runs while it keeps touching the file. */
  | { readonly kind: 'heartbeat'; readonly holder: string };

function describe(file: LockFile): string {
  const h = file.holder;
  if (h === undefined) {
    const shown = JSON.stringify(file.raw.slice(0, 40));
    return `an unreadable LOCK (${file.raw.length === 0 ? 'empty' : `${file.raw.length} bytes: ${shown}`})`;
  }
  return h.host === hostname() ? `process ${h.pid}` : `process ${h.pid} on ${h.host}`;
}

function judge(file: LockFile): Verdict {
  const h = file.holder;
  const holder = describe(file);
  if (h === undefined || !pidVisible(h)) return { kind: 'heartbeat', holder };
  if (h.pid === process.pid) return { kind: 'gone', holder, why: 'it names this process' };
  if (!alive(h.pid)) return { kind: 'gone', holder, why: 'its process is not running' };
  if (h.startTime !== undefined) {
    const now = startTimeOf(h.pid);
    if (now === undefined) return { kind: 'running', holder }; // alive but /proc unreadable: assume it runs
    if (now !== h.startTime || (h.bootId !== undefined && own.bootId !== '' && h.bootId !== own.bootId))
      return { kind: 'gone', holder, why: `pid ${h.pid} now belongs to another process` };
    return { kind: 'running', holder };
  }
  if (!looksLikeOtelAudit(h.pid))
    return { kind: 'gone', holder, why: `pid ${h.pid} belongs to a process that is not otel-audit` };
  return { kind: 'running', holder };
}

function sameFile(a: LockFile, b: LockFile): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.mtimeMs === b.mtimeMs && a.raw === b.raw;
}

/**
 * Watches a LOCK whose holder cannot be checked by pid: true if it is touched or replaced within
 * `staleMs` (the holder runs), false once it has been left alone that long. Its age counts towards
 * that unless its time lies in the future (a clock that differs): then it is watched the whole time.
 */
async function heartbeatContinues(path: string, first: LockFile, timings: LockTimings): Promise<boolean> {
  const poll = Math.max(10, Math.min(500, timings.heartbeatMs / 4));
  const age = Date.now() - first.mtimeMs;
  const deadline = Date.now() + (age >= 0 ? Math.max(0, timings.staleMs - age) : timings.staleMs);
  while (Date.now() < deadline) {
    await sleep(Math.min(poll, Math.max(1, deadline - Date.now())));
    const now = await readLock(path);
    if (now === undefined || !sameFile(now, first)) return true;
  }
  return false;
}

function lockText(token: string): string {
  return `${process.pid}\n${hostname()}\n${own.pidNamespace}\n${own.startTime}\n${own.bootId}\n${token}\n`;
}

async function writeTemp(directory: string, text: string): Promise<string> {
  const tmp = join(directory, `LOCK.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return tmp;
}

/** Errors of link(2) on file systems that do not support hard links. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * The directory's lock, held by this process: kept fresh by a heartbeat, checked (cheaply: one
 * stat) before every write to the storage. Once another process has taken it over, or it was
 * removed, every check throws {@link LockLostError} and the `onLost` callbacks run once.
 */
export class DirectoryLock {
  private lostReason: string | undefined;
  private readonly lostListeners: ((reason: string) => void)[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private released = false;

  /** @internal use {@link lockDirectory} */
  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly ino: number,
    private readonly dev: number,
    /** The previous holder was judged gone only by its heartbeat: it may still run (frozen, or on a shared volume). */
    readonly tookOverUnverified: boolean,
    timings: LockTimings,
  ) {
    this.heartbeat = setInterval(() => this.beat(), timings.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Why the lock was lost, or undefined while it is held. */
  lost(): string | undefined {
    if (this.lostReason === undefined && !this.released) this.check();
    return this.lostReason;
  }

  /** Throws {@link LockLostError} unless this process still holds the lock. One stat(2). */
  assertHeld(): void {
    if (this.lost() !== undefined) throw new LockLostError(`storage lock lost: ${this.lostReason!}`);
  }

  onLost(listener: (reason: string) => void): void {
    if (this.lostReason !== undefined) listener(this.lostReason);
    else this.lostListeners.push(listener);
  }

  /** Stops the heartbeat and removes LOCK, unless another process holds it now. */
  async release(): Promise<void> {
    if (this.released) return;
    clearInterval(this.heartbeat);
    const held = this.lost() === undefined;
    this.released = true;
    if (held) await unlink(this.path).catch(() => undefined);
    await this.fh.close().catch(() => undefined);
  }

  private check(): void {
    let s;
    try {
      s = statSync(this.path, { throwIfNoEntry: false });
    } catch {
      return; // cannot tell (e.g. EIO): the next check tries again
    }
    if (s === undefined) this.lose(`${this.path} was removed`);
    else if (s.ino !== this.ino || s.dev !== this.dev) this.lose(`${this.path} was taken over by another process`);
  }

  private lose(reason: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = reason;
    clearInterval(this.heartbeat);
    for (const l of this.lostListeners.splice(0)) l(reason);
  }

  private beat(): void {
    if (this.lost() !== undefined) return;
    // Touch our own inode (never a LOCK that replaced it): no space needed.
    const now = new Date();
    void this.fh.utimes(now, now).catch(() => undefined);
  }
}

/**
 * Takes the directory's lock file `LOCK`. A LOCK whose holder is gone is taken over: by its pid
 * where that can be checked (same host and PID namespace; a pid reused by another process does not
 * count), otherwise once its heartbeat has stopped for `staleMs`. An unreadable LOCK (empty, NUL
 * bytes, garbage) counts as one whose holder cannot be checked. The LOCK is written whole to a
 * temporary file first and then linked (new) or renamed (take-over) into place, so it is never torn,
 * and of two processes taking over the same stale LOCK at once only one gets it.
 */
export async function lockDirectory(directory: string, options: LockOptions = {}): Promise<DirectoryLock> {
  const timings = options.timings ?? DEFAULT_LOCK_TIMINGS;
  const withRoom = options.withRoom ?? withoutReserve;
  const path = join(directory, 'LOCK');
  const token = randomBytes(12).toString('hex');
  const text = lockText(token);
  let waited = false;
  for (let attempt = 0; attempt < 20; attempt++) {
    const found = await readLock(path);
    let verdict: Verdict | undefined;
    if (found !== undefined) {
      verdict = judge(found);
      if (verdict.kind === 'running') throw new StorageLockedError(directory, verdict.holder);
      if (verdict.kind === 'heartbeat') {
        if (!waited) {
          const age = Date.now() - found.mtimeMs;
          options.onWait?.(verdict.holder, age >= 0 ? Math.max(0, timings.staleMs - age) : timings.staleMs);
          waited = true;
        }
        if (await heartbeatContinues(path, found, timings)) {
          const now = await readLock(path);
          // A LOCK that changes on its own was rewritten by a running holder (or a racing starter).
          if (now !== undefined && judge(now).kind !== 'gone') throw new StorageLockedError(directory, describe(now));
          continue;
        }
      }
    }
    let tmp: string;
    try {
      tmp = await withRoom('LOCK', () => writeTemp(directory, text));
    } catch (err) {
      if (!isOutOfSpace(err) || verdict?.kind === 'heartbeat') throw lockWriteError(directory, err);
      // No room for a new file: a LOCK whose holder is known to be gone is overwritten in place.
      if (found === undefined) throw lockWriteError(directory, err);
      await overwrite(path, text);
      const lock = await held(path, text, false, timings, options, found, verdict);
      if (lock !== undefined) return lock;
      continue;
    }
    try {
      if (found === undefined) {
        try {
          await link(tmp, path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (code === 'EEXIST') continue; // another process was first
          if (!NO_LINKS.has(code)) throw err;
          // No hard links here: create it exclusively and write it in place.
          const fh = await open(path, 'wx').catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'EEXIST') return undefined;
            throw e;
          });
          if (fh === undefined) continue;
          try {
            await fh.writeFile(text);
            await fh.sync();
          } finally {
            await fh.close();
          }
        }
      } else {
        // Take over only the LOCK that was judged: if it changed meanwhile, judge it again.
        const now = await readLock(path);
        if (now === undefined || !sameFile(now, found)) continue;
        await rename(tmp, path);
      }
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await syncDir(directory);
    if (found !== undefined) {
      // Two processes can take over the same stale LOCK at once; the last rename wins. Let a racing
      // rename land, then see whose LOCK is in place.
      await sleep(Math.max(20, Math.min(250, timings.heartbeatMs / 4)));
    }
    const lock = await held(path, text, verdict?.kind === 'heartbeat', timings, options, found, verdict);
    if (lock !== undefined) return lock;
  }
  throw new StorageLockedError(directory, 'another process (the lock keeps changing)');
}

async function overwrite(path: string, text: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(text, 0, 'utf8');
    await fh.truncate(Buffer.byteLength(text));
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function lockWriteError(directory: string, err: unknown): Error {
  return new Error(`cannot write ${join(directory, 'LOCK')}: ${(err as Error).message}`, { cause: err });
}

/** Opens the LOCK just written and checks it is ours; undefined if another process's is in place. */
async function held(
  path: string,
  text: string,
  unverified: boolean,
  timings: LockTimings,
  events: LockEvents,
  found: LockFile | undefined,
  verdict: Verdict | undefined,
): Promise<DirectoryLock | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const s = await fh.stat();
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (buf.toString('utf8', 0, bytesRead) !== text) {
      await fh.close();
      return undefined;
    }
    if (found !== undefined && verdict !== undefined && verdict.kind !== 'running') {
      events.onTakeover?.(
        verdict.holder,
        verdict.kind === 'gone' ? verdict.why : `its heartbeat stopped ${timings.staleMs} ms ago or longer`,
        unverified,
      );
    }
    return new DirectoryLock(path, fh, s.ino, s.dev, unverified, timings);
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

/** Who holds the lock, if a running process (or one whose heartbeat is still fresh) holds it. */
export async function lockHolder(
  directory: string,
  timings: LockTimings = DEFAULT_LOCK_TIMINGS,
): Promise<string | undefined> {
  const found = await readLock(join(directory, 'LOCK'));
  if (found === undefined) return undefined;
  const verdict = judge(found);
  if (verdict.kind === 'running') return verdict.holder;
  if (verdict.kind === 'gone') return undefined;
  const age = Date.now() - found.mtimeMs;
  return age < timings.staleMs ? verdict.holder : undefined;
}
