import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { checkpointsPath } from './checkpoints.js';
import { rotatedFiles } from './rotating-file.js';

/** One file exporter's trail: its rotated files (oldest first) and then the active file. */
export interface Trail {
  /** The active file's path (it may be missing). */
  readonly path: string;
  /** Existing files of the trail in write order, rotated first; `.gz` ones included. */
  readonly files: readonly string[];
  readonly checkpoints: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The trail of the audit file `path` (as a file exporter's `path` names it). */
export async function trailOf(path: string): Promise<Trail> {
  const abs = resolve(path);
  let names: string[] = [];
  try {
    names = await readdir(join(abs, '..'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const files = rotatedFiles(abs, names, true);
  if (await exists(abs)) files.push(abs);
  return { path: abs, files, checkpoints: checkpointsPath(abs) };
}

const ROTATED = /^(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}(?:\.\d+)?\.jsonl(?:\.gz)?$/;

/**
 * The trails under `--path` arguments: a directory holds one trail per `<stem>.jsonl` (active or
 * only rotated files left); a file is the active file of a trail (with its rotated files next to it).
 */
export async function trailsAt(paths: readonly string[]): Promise<Trail[]> {
  const trails = new Map<string, Trail>();
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch (err) {
      throw new Error(
        `--path ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    const actives = new Set<string>();
    if (isDir) {
      for (const name of await readdir(p)) {
        const m = ROTATED.exec(name);
        if (m) actives.add(join(p, `${m[1]!}.jsonl`));
        else if (name.endsWith('.jsonl') || name.endsWith('.jsonl.gz')) actives.add(join(p, name));
      }
    } else actives.add(p);
    for (const a of actives) {
      const t = await trailOf(a);
      if (!trails.has(t.path)) trails.set(t.path, t);
    }
  }
  return [...trails.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A short name for messages: the path relative to the working directory when it is below it. */
export function displayPath(path: string): string {
  const cwd = `${process.cwd()}/`;
  return path.startsWith(cwd) ? path.slice(cwd.length) : path;
}

export interface TrailLine {
  readonly file: string;
  /** 1-based line number in the (uncompressed) file. */
  readonly line: number;
  /** The parsed line, or undefined when it is not JSON (a torn last line, damage). */
  readonly record: unknown;
}

/** Every non-empty line of the files, in order, parsed (streamed: never the whole trail in memory). */
export async function* readTrail(files: readonly string[]): AsyncGenerator<TrailLine> {
  for (const file of files) {
    const raw = createReadStream(file);
    const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    const lines = createInterface({ input, crlfDelay: Infinity });
    let line = 0;
    try {
      for await (const text of lines) {
        line++;
        if (text === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(text) as unknown;
        } catch {
          record = undefined;
        }
        yield { file, line, record };
      }
    } finally {
      lines.close();
      raw.destroy();
    }
  }
}
