import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../storage/fs-util.js';
import type { Position } from './segments.js';

/** How far a consumer (exporter) has got: everything before `position` is delivered or dead-lettered. */
export interface Cursor extends Position {
  /** Sequence number of the next record to deliver. */
  readonly seq: number;
}

interface CursorFile {
  version: 1;
  consumers: Record<string, Cursor>;
}

const FILE = 'cursors.json';

export async function loadCursors(dir: string): Promise<Map<string, Cursor>> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const parsed = JSON.parse(text) as CursorFile;
  return new Map(Object.entries(parsed.consumers));
}

/** Replaces the cursor file atomically (write, fsync, rename, fsync the directory). */
export async function saveCursors(dir: string, cursors: ReadonlyMap<string, Cursor>): Promise<void> {
  const body: CursorFile = { version: 1, consumers: Object.fromEntries(cursors) };
  const tmp = join(dir, `${FILE}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(body));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, FILE));
  await syncDir(dir);
}
