import type { Exporter, ExportOutcome } from '../../component.js';
import type { SpooledRecord } from '../../model/spooled-record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { FileExporterConfig } from './config.js';
import { RotatingFile } from './rotating-file.js';

const DAY_MS = 86_400_000;
/** How much of the file's end is read at start to recognise records delivered just before a crash. */
const RECENT_BYTES = 8 * 1024 * 1024;
const NEWLINE = Buffer.from('\n');

/** Writes local records as JSON Lines, with rotation and retention. */
export class FileExporter implements Exporter {
  private readonly file: RotatingFile;
  private readonly recent = new Set<string>();

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
    for (const m of (await this.file.tail(RECENT_BYTES)).matchAll(/^\{"message_uuid":"([^"]+)"/gm))
      this.recent.add(m[1]!);
  }

  async export(records: readonly SpooledRecord[]): Promise<ExportOutcome> {
    let i = 0;
    if (this.recent.size > 0) {
      // After a crash the spool hands over again what was written but not yet committed: skip that
      // prefix (it is at the end of the file already), then stop checking.
      while (i < records.length && this.recent.has(records[i]!.uuid)) i++;
      if (i < records.length) this.recent.clear();
    }
    if (i === records.length) return {};
    // The records' JSON bytes as they are in the spool, one per line: no decoding or re-encoding.
    const parts: Buffer[] = [];
    for (; i < records.length; i++) parts.push(records[i]!.jsonBytes, NEWLINE);
    await this.file.append(Buffer.concat(parts));
    return {};
  }

  async shutdown(): Promise<void> {
    await this.file.close();
  }
}
