import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GroupCommit } from '../storage/group-commit.js';

/** Component id of the receiver side (records rejected by validation). */
export const RECEIVER_DEAD_LETTER_ID = 'receiver';

/** One dead letter: the original record, who rejected it, why and when (CONTRACT §5). */
export interface DeadLetter {
  readonly time: string;
  /** The exporter id, or `receiver` for records that failed validation. */
  readonly exporter: string;
  readonly reason: string;
  readonly uuid: string | undefined;
  readonly event_name: string;
  /** Receiver dead letters: the record as received, in OTLP/JSON. */
  readonly otlp?: { resource?: unknown; scope?: unknown; logRecord: unknown };
  /** Exporter dead letters: the record as the exporter got it. */
  readonly record?: unknown;
}

/** File name for a component id (`sap_auditlog/eu10` → `sap_auditlog_eu10.jsonl`). */
export function deadLetterFileName(componentId: string): string {
  return `${componentId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
}

class DeadLetterFile {
  private readonly commit = new GroupCommit<string>((lines) => this.flush(lines));

  constructor(private readonly fh: FileHandle) {}

  write(lines: string): Promise<void> {
    return this.commit.submit(lines);
  }

  private async flush(chunks: string[]): Promise<void> {
    await this.fh.write(chunks.join(''));
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.commit.idle();
    await this.fh.close();
  }
}

/**
 * Durable JSON Lines store of rejected records under `<storage>/dead-letter/`, one file per
 * component. `write` resolves only after the lines are fsynced.
 */
export class DeadLetterStore {
  private readonly files = new Map<string, Promise<DeadLetterFile>>();

  constructor(readonly directory: string) {}

  async write(componentId: string, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const file = await this.file(componentId);
    let lines = '';
    for (const l of letters) lines += JSON.stringify(l) + '\n';
    await file.write(lines);
  }

  pathFor(componentId: string): string {
    return join(this.directory, deadLetterFileName(componentId));
  }

  private file(componentId: string): Promise<DeadLetterFile> {
    let f = this.files.get(componentId);
    if (f === undefined) {
      f = (async () => {
        await mkdir(this.directory, { recursive: true });
        return new DeadLetterFile(await open(this.pathFor(componentId), 'a'));
      })();
      f.catch(() => this.files.delete(componentId));
      this.files.set(componentId, f);
    }
    return f;
  }

  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    await Promise.all(files.map(async (f) => (await f).close()));
  }
}
