import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Exporter, ExportOutcome } from '../../component.js';
import type { SpooledRecord } from '../../model/spooled-record.js';
import type { Logger } from '../../telemetry/logger.js';
import type { OpenFile } from '../../storage/write-fully.js';
import { parseDuration } from '../../util/units.js';
import { CheckpointWriter, checkpointsPath } from './checkpoints.js';
import type { FileExporterConfig } from './config.js';
import { RecentUuids } from './recent-uuids.js';
import { RotatingFile } from './rotating-file.js';
import { parseSigner, type NoteSigner } from './signed-note.js';

const DAY_MS = 86_400_000;
/** At most this much of the trail's end (across rotation) is read at start to find the last `dedupe_window` uuids. */
const RECENT_BYTES = 128 * 1024 * 1024;

/** Writes local records as JSON Lines, with rotation and retention, chained and checkpointed. */
export class FileExporter implements Exporter {
  private readonly file: RotatingFile;
  /** Uuids of the last records written (undefined: dedupe off). */
  private readonly recent: RecentUuids | undefined;
  private checkpoints: CheckpointWriter | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    private readonly config: FileExporterConfig,
    private readonly logger: Logger,
    openFile?: OpenFile,
  ) {
    this.recent = config.dedupe_window > 0 ? new RecentUuids(config.dedupe_window) : undefined;
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
      undefined,
      openFile,
      { chain: config.chain.enabled, onRotate: (target) => this.checkpoint(basename(target)) },
    );
  }

  async start(): Promise<void> {
    const chain = this.config.chain;
    if (chain.enabled) {
      this.checkpoints = new CheckpointWriter(
        checkpointsPath(this.config.path),
        chain.origin ?? `otel-audit/${this.id}`,
        chain.signing_key_file === undefined ? undefined : await readSigner(chain.signing_key_file),
        this.logger,
      );
    }
    await this.file.open();
    if (this.recent !== undefined) {
      const uuids = await this.file.recentUuids(this.recent.capacity, RECENT_BYTES);
      for (let i = uuids.length - 1; i >= 0; i--) this.recent.add(uuids[i]!);
    }
    if (this.checkpoints !== undefined) {
      const interval = parseDuration(chain.checkpoint_interval);
      this.timer = setInterval(() => this.checkpoint(), interval);
      this.timer.unref();
    }
  }

  async export(records: readonly SpooledRecord[]): Promise<ExportOutcome> {
    const recent = this.recent;
    if (recent === undefined) {
      await this.file.appendRecords(records.map((r) => r.jsonBytes));
      return {};
    }
    // A record whose uuid was just written is a duplicate: after a crash the spool hands over again
    // what was written but not yet committed, and a sender retries a request whose answer it lost.
    // The retry can be in the same batch as the original.
    const lines: Buffer[] = [];
    const fresh = new Set<string>();
    for (const r of records) {
      if (recent.has(r.uuid) || fresh.has(r.uuid)) continue;
      lines.push(r.jsonBytes);
      fresh.add(r.uuid);
    }
    if (lines.length === 0) return {};
    // The records' JSON bytes as they are in the spool, one per line: no decoding or re-encoding.
    await this.file.appendRecords(lines);
    for (const u of fresh) recent.add(u);
    return {};
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.file.close();
    this.checkpoint();
    await this.checkpoints?.flush();
  }

  /** Checkpoints the chain if it moved since the last checkpoint (always after a rotation). */
  private checkpoint(rotated?: string): void {
    const head = this.file.chainHead();
    if (this.checkpoints === undefined || head === undefined) return;
    if (rotated === undefined && !this.checkpoints.behind(head)) return;
    void this.checkpoints.record(head, rotated);
  }
}

async function readSigner(path: string): Promise<NoteSigner> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read chain.signing_key_file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseSigner(text);
  } catch (err) {
    throw new Error(`chain.signing_key_file ${path}: ${(err as Error).message}`, { cause: err });
  }
}
