import { defaultRegistry, type ComponentRegistry } from '../components.js';
import { openStorage } from '../open-storage.js';
import { replayDeadLetters, replayLimits, type ReplayFilter, type ReplayResult } from '../replay/replay.js';
import { requestReplay } from '../replay/replay-requests.js';
import { lockHolder } from '../storage/lock.js';
import { createLogger } from '../telemetry/logger.js';
import { loadConfigOrReport } from './load.js';

/**
 * `otel-audit replay`: re-sends dead letters once their cause is fixed. With a sidecar running on
 * the same storage directory the sidecar does it (asked through a request file); otherwise this
 * process opens the storage itself and the next `run` delivers the records.
 */
export async function replayCommand(
  file: string | undefined,
  filter: ReplayFilter,
  registry: ComponentRegistry = defaultRegistry(),
): Promise<number> {
  const config = await loadConfigOrReport(file, registry);
  if (config === undefined) return 2;
  if (filter.reason !== undefined) {
    try {
      new RegExp(filter.reason);
    } catch (err) {
      process.stderr.write(`--reason is not a valid regular expression: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const storage = config.storage.directory;
  const exporters = config.exporters.map((e) => e.id);
  if (filter.exporter !== undefined && filter.exporter !== 'receiver' && !exporters.includes(filter.exporter)) {
    process.stderr.write(
      `--exporter ${filter.exporter} is not an exporter of this config (${['receiver', ...exporters].join(', ')})\n`,
    );
    return 2;
  }
  let result: ReplayResult;
  const holder = await lockHolder(storage, config.storage.lock);
  if (holder !== undefined) {
    process.stdout.write(`asking the running sidecar (${holder}) to replay\n`);
    result = await requestReplay(storage, filter, 60_000);
  } else {
    // Exporters of the sidecar that this config does not list keep their place in the spool.
    const opened = await openStorage(config, { logger: createLogger('warn'), tool: true });
    try {
      result = await replayDeadLetters(
        opened.deadLetters,
        opened.spool,
        exporters,
        replayLimits(config, registry),
        filter,
      );
    } finally {
      await opened.close();
    }
  }
  const total = Object.values(result.replayed).reduce((a, b) => a + b, 0);
  for (const [component, n] of Object.entries(result.replayed)) {
    process.stdout.write(
      `${component}: ${n} record${n === 1 ? '' : 's'} ${result.dryRun ? 'would be replayed' : 'replayed'}\n`,
    );
  }
  if (result.stillInvalid > 0) process.stdout.write(`receiver: ${result.stillInvalid} still fail validation (kept)\n`);
  if (result.unknownExporter > 0) {
    process.stdout.write(`${result.unknownExporter} dead letters belong to exporters not in this config (kept)\n`);
  }
  process.stdout.write(
    `${result.dryRun ? 'dry run: ' : ''}${total} record${total === 1 ? '' : 's'} ${result.dryRun ? 'selected' : 'replayed'}\n`,
  );
  return 0;
}
