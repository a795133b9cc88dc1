import { readFile } from 'node:fs/promises';

/** The JSON objects of a JSON Lines file, one per non-empty line; none while the file cannot be read (not written yet). */
export async function readLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
