import { defaultRegistry, type ComponentRegistry } from '../components.js';
import { DEFAULT_CONFIG_SOURCE, DEFAULT_CONFIG_YAML } from '../config/default-config.js';
import { loadConfigFile, parseConfig, type ServiceConfig } from '../config/load.js';
import { ConfigError, formatProblem } from '../config/problems.js';

/** The config from `--config FILE`, or the embedded default. */
export async function loadConfig(
  file: string | undefined,
  registry: ComponentRegistry = defaultRegistry(),
): Promise<ServiceConfig> {
  return file === undefined
    ? parseConfig(DEFAULT_CONFIG_YAML, { source: DEFAULT_CONFIG_SOURCE, registry })
    : loadConfigFile(file, { registry });
}

/**
 * The config as `loadConfig` reads it, or `undefined` after printing each problem to stderr as
 * `file:line:col: key.path: message` (the command then exits 2).
 */
export async function loadConfigOrReport(
  file: string | undefined,
  registry: ComponentRegistry = defaultRegistry(),
): Promise<ServiceConfig | undefined> {
  try {
    return await loadConfig(file, registry);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`${formatProblem(err.source, p)}\n`);
    return undefined;
  }
}
