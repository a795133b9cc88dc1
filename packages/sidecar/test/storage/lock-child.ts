/*
 * A process that takes a storage lock (for the lock tests' races between processes):
 * `node lock-child.js DIR HEARTBEAT_MS STALE_MS HOLD_MS` prints `got` or `refused: <message>`,
 * holds the lock HOLD_MS, then releases it.
 */
import { lockDirectory, StorageLockedError } from '../../src/storage/lock.js';

const [dir, heartbeatMs, staleMs, holdMs] = process.argv.slice(2);
try {
  const lock = await lockDirectory(dir!, { timings: { heartbeatMs: Number(heartbeatMs), staleMs: Number(staleMs) } });
  process.stdout.write('got\n');
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  const lost = lock.lost();
  await lock.release();
  process.stdout.write(lost === undefined ? 'released\n' : `lost: ${lost}\n`);
} catch (err) {
  if (!(err instanceof StorageLockedError)) throw err;
  process.stdout.write(`refused: ${err.message}\n`);
}
