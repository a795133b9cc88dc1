import type { Exporter, ExportOutcome } from '../../component.js';
import type { SpooledRecord } from '../../spool/spooled-record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { FileExporterConfig } from './config.js';
import { RotatingFile } from './rotating-file.js';

const DAY_MS = 86_400_000;

/** Writes CONTRACT §6 local records as JSON Lines, with rotation and retention. */
export class FileExporter implements Exporter {
  private readonly file: RotatingFile;

  constructor(
    readonly id: string,
    config: FileExporterConfig,
    logger: Logger,
  ) {
    this.file = new RotatingFile(
      config.path,
      {
        maxBytes: Math.round(config.rotation.max_megabytes * 1024 * 1024),
        maxBackups: config.rotation.max_backups,
        maxAgeMs: config.rotation.max_days * DAY_MS,
        localtime: config.rotation.localtime,
        fsync: config.fsync,
      },
      logger,
    );
  }

  async start(): Promise<void> {
    await this.file.open();
  }

  async export(records: readonly SpooledRecord[]): Promise<ExportOutcome> {
    let lines = '';
    for (const r of records) lines += r.json + '\n';
    await this.file.append(lines);
    return {};
  }

  async shutdown(): Promise<void> {
    await this.file.close();
  }
}
