import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findTrails } from './trails.js';

/** What the sidecar's CLI hands the trail tools (`@otel-audit/trail` declares the same shape). */
export interface TrailHost {
  /** The audit files (rotated and active, `.gz` included) of `--config` or the `--path` arguments. */
  resolveFiles(config: string | undefined, paths: readonly string[]): Promise<string[]>;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

interface TrailModule {
  runTrailCommand(command: string, argv: string[], host: TrailHost): Promise<number>;
}

const TRAIL_PACKAGE = '@otel-audit/trail';

export function notInstalledMessage(command: string, module: string): string {
  return (
    `otel-audit ${command} needs the trail tools (${TRAIL_PACKAGE}, with DuckDB: about 70 MB), and ${module} cannot be loaded.\n` +
    `Install them next to the sidecar:   npm install ${TRAIL_PACKAGE}\n` +
    `or build the image with them:       docker build --build-arg TRAIL_TOOLS=true .\n` +
    `or point to an installed copy:      OTEL_AUDIT_TRAIL_MODULE=/path/to/trail/dist/src/index.js\n` +
    `(otel-audit verify needs nothing extra.)\n`
  );
}

/** `otel-audit query` and `otel-audit report`: loaded on demand, so the sidecar does not carry DuckDB. */
export async function trailToolCommand(command: 'query' | 'report', argv: string[]): Promise<number> {
  const module = process.env['OTEL_AUDIT_TRAIL_MODULE'] || TRAIL_PACKAGE;
  const specifier = isAbsolute(module) ? pathToFileURL(module).href : module;
  let loaded: Partial<TrailModule>;
  try {
    loaded = (await import(specifier)) as Partial<TrailModule>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    process.stderr.write(notInstalledMessage(command, module));
    return 2;
  }
  if (typeof loaded.runTrailCommand !== 'function') {
    process.stderr.write(notInstalledMessage(command, module));
    return 2;
  }
  return loaded.runTrailCommand(command, argv, {
    resolveFiles: async (config, paths) => (await findTrails(config, paths)).flatMap((t) => t.files),
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
