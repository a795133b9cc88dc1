import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/*
 * Reading the audit trail the file exporter writes: its active file and the rotated files next to
 * it (`audit-2026-11-21T10-00-00.000.jsonl`, `.1` for rotations within the same millisecond), each
 * possibly gzip-compressed (`….jsonl.gz`). Records are streamed, never held all at once.
 */

const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})(?:\.(\d+))?$/;

/** The trail of the file exporter writing `path`: rotated files oldest first, then the active file (if it exists). */
export async function trailFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const ext = extname(path);
  const stem = basename(path, ext);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const rotated: { name: string; stamp: string; n: number }[] = [];
  for (const name of names) {
    const plain = name.endsWith('.gz') ? name.slice(0, -3) : name;
    if (!plain.startsWith(`${stem}-`) || !plain.endsWith(ext)) continue;
    const m = STAMP.exec(plain.slice(stem.length + 1, plain.length - ext.length));
    if (m) rotated.push({ name, stamp: m[1]!, n: Number(m[2] ?? 0) });
  }
  rotated.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.n - b.n));
  const files = rotated.map((r) => join(dir, r.name));
  for (const active of [path, `${path}.gz`]) {
    if ((await stat(active).catch(() => undefined))?.isFile()) files.push(active);
  }
  return files;
}

export interface TrailLine {
  readonly file: string;
  /** 1-based line number in the (uncompressed) file. */
  readonly line: number;
  /** The parsed line, or undefined when it is not JSON (a torn last line, damage). */
  readonly record: unknown;
}

/** Every non-empty line of the files, in order, parsed. */
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
