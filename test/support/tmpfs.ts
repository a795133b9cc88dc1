import { execFile } from 'node:child_process';
import { mkdir, open, readdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small tmpfs the test mounted: a volume that really fills up (bytes or inodes). */
export interface SmallVolume {
  readonly path: string;
  /** Unmounts it (lazily if something still holds it open). */
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `size` (e.g. `8m`) and `inodes` inodes at `<parent>/volume`, or returns the
 * reason it cannot (mounting needs root, or CAP_SYS_ADMIN in a container).
 */
export async function mountSmallVolume(
  parent: string,
  size: string,
  inodes: number,
): Promise<SmallVolume | { skip: string }> {
  const path = join(parent, 'volume');
  await mkdir(path, { recursive: true });
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},nr_inodes=${inodes},mode=0700`, 'tmpfs', path]);
  } catch (err) {
    return {
      skip:
        `cannot mount a tmpfs here (${(err as Error).message.split('\n', 1)[0]}); ` +
        'this fault test needs root (or CAP_SYS_ADMIN): run it as root, e.g. `sudo npm test` or in CI',
    };
  }
  return {
    path,
    async unmount() {
      try {
        await run('umount', [path]);
      } catch {
        await run('umount', ['-l', path]).catch(() => undefined);
      }
    },
  };
}

/** Fills the volume's free bytes with `<dir>/filler-*` files (until ENOSPC); returns the bytes written. */
export async function fillBytes(dir: string): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let total = 0;
  for (let i = 0; ; i++) {
    let fh;
    try {
      fh = await open(join(dir, `filler-${Date.now()}-${i}`), 'w');
    } catch {
      return total; // not even an inode left
    }
    try {
      for (let n = 0; n < 256; n++) {
        let written;
        try {
          written = (await fh.write(chunk)).bytesWritten;
        } catch {
          return total;
        }
        total += written;
        if (written < chunk.length) return total;
      }
    } finally {
      await fh.close();
    }
  }
}

/** Creates empty `<dir>/inode-*` files until no inode is left; returns how many. */
export async function fillInodes(dir: string): Promise<number> {
  for (let i = 0; ; i++) {
    try {
      await (await open(join(dir, `inode-${i}`), 'wx')).close();
    } catch {
      return i;
    }
  }
}

/** Removes the filler files `fillBytes`/`fillInodes` made in `dir` (or only `count` of the inode ones). */
export async function removeFillers(dir: string, count = Infinity): Promise<void> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    if (!name.startsWith('filler-') && !name.startsWith('inode-')) continue;
    if (removed++ >= count) break;
    await rm(join(dir, name), { force: true });
  }
}

/** Free bytes and inodes of the volume at `dir`. */
export async function freeSpace(dir: string): Promise<{ bytes: number; inodes: number }> {
  const s = await statfs(dir);
  return { bytes: s.bavail * s.bsize, inodes: s.ffree };
}
