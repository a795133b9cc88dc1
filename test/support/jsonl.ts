import { readFile } from 'node:fs/promises';

/**
 * The JSON objects of a JSON Lines file, one per complete non-empty line; none while the file cannot
 * be read (not written yet). A last line without its newline is being written: it is left out, so a
 * test may poll a file while the exporter appends to it.
 */
export async function readLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
