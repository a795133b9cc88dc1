import { readdir } from 'node:fs/promises';

const ROTATED = /^audit-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})(?:\.(\d+))?\.jsonl$/;

/**
 * The names of the rotated files of `<dir>/audit.jsonl`, oldest first. Not a plain name sort: two
 * rotations in the same millisecond are `…175.jsonl` then `…175.1.jsonl`, which sort the other way
 * round by name.
 */
export async function rotatedNames(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .map((name) => ({ name, m: ROTATED.exec(name) }))
    .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
    .sort((a, b) => a.m[1]!.localeCompare(b.m[1]!) || Number(a.m[2] ?? 0) - Number(b.m[2] ?? 0))
    .map((f) => f.name);
}
