import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../storage/fs-util.js';
import { GroupCommit } from '../storage/group-commit.js';
import type { StorageGuard } from '../storage/guard.js';
import { shrinkTo, writeFully, type OpenFile } from '../storage/write-fully.js';
import { RECEIVER_DEAD_LETTER_ID, type DeadLetter, type DeadLetterWriter } from '../model/dead-letter.js';

/** File name for a component id (`sap_auditlog/eu10` → `sap_auditlog_eu10.jsonl`). */
export function deadLetterFileName(componentId: string): string {
  return `${componentId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
}

/** A line of a dead-letter file: parsed, or kept verbatim when it does not parse. */
export type DeadLetterLine =
  { readonly letter: DeadLetter; readonly raw: string } | { readonly letter: undefined; readonly raw: string };

/** Serializes writes and rewrites of one file. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

class DeadLetterFile {
  private readonly commit = new GroupCommit<string>((lines) => this.mutex.run(() => this.flush(lines)));
  private readonly mutex = new Mutex();
  /** A failed write could not be cut back to this length: do it before the next write. */
  private cutTo: number | undefined;

  constructor(
    private readonly path: string,
    private fh: FileHandle,
    private readonly openFile: OpenFile,
  ) {}

  write(lines: string): Promise<void> {
    return this.commit.submit(lines);
  }

  private async flush(chunks: string[]): Promise<void> {
    await this.cutTornTail();
    const fh = this.fh;
    const data = Buffer.from(chunks.join(''));
    const before = (await fh.stat()).size;
    try {
      // One write may write only part of the bytes without an error (file system full, file size limit).
      await writeFully(fh, [data], data.length);
      await fh.datasync();
    } catch (err) {
      // Leave no partial line behind, or the next dead letter would be glued to it.
      await shrinkTo(fh, before).catch(() => {
        this.cutTo = before;
      });
      throw err;
    }
  }

  private async cutTornTail(): Promise<void> {
    if (this.cutTo === undefined) return;
    await shrinkTo(this.fh, this.cutTo);
    this.cutTo = undefined;
  }

  /**
   * Replaces the file's content with what `decide` keeps (atomically: temp file, fsync, rename).
   * Writes wait meanwhile, so none is lost.
   */
  rewrite(decide: (lines: DeadLetterLine[]) => Promise<DeadLetterLine[]>): Promise<void> {
    return this.mutex.run(async () => {
      await this.cutTornTail();
      const text = await readFile(this.path, 'utf8');
      const lines: DeadLetterLine[] = text
        .split('\n')
        .filter((l) => l !== '')
        .map((raw) => {
          try {
            return { letter: JSON.parse(raw) as DeadLetter, raw };
          } catch {
            return { letter: undefined, raw };
          }
        });
      const keep = await decide(lines);
      if (keep.length === lines.length && keep.every((l, i) => l.raw === lines[i]!.raw)) return;
      // The temp file's handle becomes the file's handle once renamed into place; until then (and if
      // anything fails) writes go on appending to the current file.
      const tmp = `${this.path}.tmp`;
      await unlink(tmp).catch(() => undefined);
      const out = await this.openFile(tmp, 'a');
      try {
        await out.writeFile(keep.map((l) => `${l.raw}\n`).join(''));
        await out.sync();
        await rename(tmp, this.path);
      } catch (err) {
        await out.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      const old = this.fh;
      this.fh = out;
      await old.close().catch(() => undefined);
      await syncDir(join(this.path, '..'));
    });
  }

  async close(): Promise<void> {
    await this.commit.idle();
    await this.mutex.run(() => this.fh.close());
  }
}

export interface DeadLetterStoreOptions {
  /**
   * Size of all dead-letter files past which receiver dead letters (invalid records, which any
   * sender can produce) are no longer kept: they are still answered as rejected, and counted. Exporter
   * dead letters are records that were acknowledged: they are always kept.
   */
  readonly maxBytes?: number;
  /** Fencing and the space reserve (exporter dead letters may use it: their queue waits for them). */
  readonly guard?: StorageGuard;
  /** Receiver dead letters not kept because the store reached `maxBytes`. */
  readonly onOverflow?: (componentId: string, records: number, usedBytes: number, maxBytes: number) => void;
}

/**
 * Durable JSON Lines store of rejected records under `<storage>/dead-letter/`, one file per
 * component. `write` resolves only after the lines are fsynced.
 */
export class DeadLetterStore implements DeadLetterWriter {
  private readonly files = new Map<string, Promise<DeadLetterFile>>();
  /** Bytes in the dead-letter files (undefined: to be measured). */
  private used: number | undefined;
  readonly maxBytes: number;

  constructor(
    readonly directory: string,
    private readonly openFile: OpenFile = open,
    private readonly options: DeadLetterStoreOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? Infinity;
  }

  async write(componentId: string, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    let lines = '';
    for (const l of letters) lines += JSON.stringify(l) + '\n';
    const bytes = Buffer.byteLength(lines);
    const receiver = componentId === RECEIVER_DEAD_LETTER_ID;
    const used = await this.usedBytes();
    if (receiver && used + bytes > this.maxBytes) {
      this.options.onOverflow?.(componentId, letters.length, used, this.maxBytes);
      return;
    }
    const guard = this.options.guard;
    const write = async () => {
      const file = await this.file(componentId);
      guard?.assertHeld();
      await file.write(lines);
    };
    this.used = used + bytes; // counted now, so concurrent writes do not all pass the quota
    try {
      if (receiver) {
        await guard?.beforeNewData();
        await write();
      } else if (guard !== undefined) await guard.withRoom('dead letters', write);
      else await write();
    } catch (err) {
      if (this.used !== undefined) this.used -= bytes;
      throw err;
    }
  }

  /** Bytes in the dead-letter files now (measured once, then kept up to date). */
  async usedBytes(): Promise<number> {
    if (this.used !== undefined) return this.used;
    let total = 0;
    for (const name of await this.fileNames()) {
      total += await stat(join(this.directory, name)).then(
        (s) => s.size,
        () => 0,
      );
    }
    this.used ??= total;
    return this.used;
  }

  /** The last measured size (0 before the first write), for the metrics. */
  usedBytesNow(): number {
    return this.used ?? 0;
  }

  pathFor(componentId: string): string {
    return join(this.directory, deadLetterFileName(componentId));
  }

  /** Component file names present (`receiver.jsonl`, `sap_auditlog.jsonl`, ...). */
  async fileNames(): Promise<string[]> {
    try {
      return (await readdir(this.directory)).filter((n) => n.endsWith('.jsonl')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Rewrites a component's file keeping what `decide` returns; writes to it wait meanwhile. */
  async rewrite(componentId: string, decide: (lines: DeadLetterLine[]) => Promise<DeadLetterLine[]>): Promise<void> {
    const file = await this.file(componentId);
    try {
      await file.rewrite(decide);
    } finally {
      this.used = undefined; // measured again at the next write
    }
  }

  private file(componentId: string): Promise<DeadLetterFile> {
    let f = this.files.get(componentId);
    if (f === undefined) {
      f = (async () => {
        await mkdir(this.directory, { recursive: true });
        const path = this.pathFor(componentId);
        return new DeadLetterFile(path, await this.openFile(path, 'a'), this.openFile);
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
