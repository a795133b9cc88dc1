import type { ChildProcess } from 'node:child_process';

/** How long `stopChild` waits after its signal before it sends SIGKILL. */
export const STOP_GRACE_MS = 30_000;

/** Children still running; killed when this process exits, even if a timed-out test left one behind. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Tracks a child just spawned: resolves with its exit code (or the signal that ended it, or the
 * spawn error's code) once it is gone. Call it right after `spawn`.
 */
export function exitOf(child: ChildProcess): Promise<number | string> {
  live.add(child);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? -1);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // a running child's errors do not end it
      live.delete(child);
      resolve(err.code ?? err.message);
    });
  });
}

export function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Sends `signal` unless the child has exited, SIGKILL if it is still running `graceMs` later, and
 * resolves with what `exited` (from `exitOf`) resolves with.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<number | string>,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = STOP_GRACE_MS,
): Promise<number | string> {
  if (isRunning(child)) child.kill(signal);
  const timer = setTimeout(() => {
    if (isRunning(child)) child.kill('SIGKILL');
  }, graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
