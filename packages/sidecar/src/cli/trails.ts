import type { FileExporterConfig } from '../exporters/file/config.js';
import { trailOf, trailsAt, type Trail } from '../exporters/file/trail-files.js';
import { loadConfig } from './load.js';

export interface FoundTrail extends Trail {
  /** The exporter keeps every rotated file (no retention), so the trail must start at its first record. */
  readonly complete: boolean;
}

/** Thrown for a bad --config/--path; the message names the option. */
export class TrailOptionError extends Error {}

/** The trails named by `--path` arguments, or else those of every file exporter of `--config` (or the default config). */
export async function findTrails(config: string | undefined, paths: readonly string[]): Promise<FoundTrail[]> {
  if (paths.length > 0) {
    if (config !== undefined) throw new TrailOptionError('give either --config or --path, not both');
    try {
      return (await trailsAt(paths)).map((t) => ({ ...t, complete: false }));
    } catch (err) {
      throw new TrailOptionError((err as Error).message);
    }
  }
  let loaded;
  try {
    loaded = await loadConfig(config);
  } catch (err) {
    throw new TrailOptionError(`--config ${config ?? '(embedded default)'}: ${(err as Error).message}`);
  }
  const files = loaded.exporters.filter((e) => e.type === 'file');
  if (files.length === 0) throw new TrailOptionError(`--config ${loaded.source}: no file exporter in the pipeline`);
  return Promise.all(
    files.map(async (e) => {
      const c = e.config as FileExporterConfig;
      return { ...(await trailOf(c.path)), complete: c.rotation.max_backups === 0 && c.rotation.max_days === 0 };
    }),
  );
}
