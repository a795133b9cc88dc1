import { defaultRegistry, type ComponentRegistry } from '../components.js';
import { DEFAULT_CONFIG_SOURCE, DEFAULT_CONFIG_YAML } from '../config/default-config.js';
import { loadConfigFile, parseConfig, type ServiceConfig } from '../config/load.js';

/** The config from `--config FILE`, or the embedded default. */
export async function loadConfig(
  file: string | undefined,
  registry: ComponentRegistry = defaultRegistry(),
): Promise<ServiceConfig> {
  return file === undefined
    ? parseConfig(DEFAULT_CONFIG_YAML, { source: DEFAULT_CONFIG_SOURCE, registry })
    : loadConfigFile(file, { registry });
}
