import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mkdir } from 'node:fs/promises';

/** fsyncs a directory so that a create, rename or unlink in it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates the parent directory of `file` (and its parents). */
export async function ensureParentDir(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
}
