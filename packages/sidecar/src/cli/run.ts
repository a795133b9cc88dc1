import type { ComponentRegistry } from '../components.js';
import { defaultRegistry } from '../components.js';
import { Service } from '../service.js';
import { createLogger } from '../telemetry/logger.js';
import { loadConfigOrReport } from './load.js';

/** Runs until SIGTERM/SIGINT, then shuts down cleanly (stop accepting, finish in-flight work). */
export async function runCommand(
  file: string | undefined,
  registry: ComponentRegistry = defaultRegistry(),
): Promise<number> {
  const config = await loadConfigOrReport(file, registry);
  if (config === undefined) return 2;
  const logger = createLogger(config.telemetry.logs.level);
  let service: Service;
  try {
    service = await Service.start(config, {
      logger,
      registry,
      // Another process has the storage now: go at once, before anything else is written.
      onFenced: () => {
        logger.flush();
        process.exit(1);
      },
    });
  } catch (err) {
    logger.fatal({ err }, 'otel-audit failed to start');
    logger.flush();
    return 1;
  }

  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting for shutdown');
      logger.flush();
      process.exit(1);
    }
    logger.info({ signal }, 'signal received');
    service.shutdown().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    logger.flush();
    process.exit(1);
  });
  return 0;
}
