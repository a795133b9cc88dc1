import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { ensureParentDir, syncDir } from '../../storage/fs-util.js';
import { GroupCommit } from '../../storage/group-commit.js';
import { shrinkTo, writeFully, type OpenFile } from '../../storage/write-fully.js';
import type { Logger } from '../../telemetry/logger.js';

export interface RotationPolicy {
  /** 0: never rotate. */
  readonly maxBytes: number;
  /** 0: keep all rotated files. */
  readonly maxBackups: number;
  /** 0: no age limit. */
  readonly maxAgeMs: number;
  readonly localtime: boolean;
  readonly fsync: boolean;
}

/**
 * An append-only line file with size-based rotation (`audit.jsonl` → `audit-2026-11-21T10-00-00.000.jsonl`)
 * and retention of rotated files. Appends from concurrent callers share one write and one fdatasync.
 */
export class RotatingFile {
  private fh: FileHandle | undefined;
  /** Open for appends (the handle itself is briefly absent while the file rotates). */
  private opened = false;
  /** Exact length of the active file: only bytes known to be written count. */
  private size = 0;
  /** A failed append could not be cut back: bytes past `size` must go before the next append. */
  private tornTail = false;
  private readonly commit = new GroupCommit<Buffer>((chunks) => this.flush(chunks));
  private readonly dir: string;
  private readonly stem: string;
  private readonly ext: string;

  constructor(
    readonly path: string,
    private readonly policy: RotationPolicy,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
    private readonly openFile: OpenFile = open,
  ) {
    this.dir = dirname(path);
    this.ext = extname(path);
    this.stem = basename(path, this.ext);
  }

  async open(): Promise<void> {
    await ensureParentDir(this.path);
    this.fh = await this.openFile(this.path, 'a+');
    this.size = await this.repairTornTail(this.fh);
    this.opened = true;
    await this.prune();
  }

  /** The last `bytes` of the active file (whole lines only), e.g. to see what was written before a crash. */
  async tail(bytes: number): Promise<string> {
    const start = Math.max(0, this.size - bytes);
    const buf = Buffer.alloc(this.size - start);
    if (buf.length > 0) await this.fh!.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  }

  /** Appends complete lines; resolves when they are written (and fdatasync'ed if configured). */
  append(lines: Buffer | string): Promise<void> {
    if (!this.opened) return Promise.reject(new Error(`${this.path} is not open`));
    return this.commit.submit(typeof lines === 'string' ? Buffer.from(lines) : lines);
  }

  async close(): Promise<void> {
    this.opened = false;
    await this.commit.idle();
    await this.fh?.close();
    this.fh = undefined;
  }

  /**
   * A crash mid-write can leave a partial last line. Cut it off so the file stays valid JSON Lines;
   * its records were not acknowledged, so they are written again.
   */
  private async repairTornTail(fh: FileHandle): Promise<number> {
    const { size } = await fh.stat();
    if (size === 0) return 0;
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      await fh.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, end - start).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = start + nl + 1;
        if (keep !== size) await this.truncateTail(fh, keep, size);
        return keep;
      }
      end = start;
    }
    await this.truncateTail(fh, 0, size);
    return 0;
  }

  private async truncateTail(fh: FileHandle, keep: number, size: number): Promise<void> {
    this.logger.warn(
      { file: this.path, bytes: size - keep },
      'removed a partial last line left by an interrupted write',
    );
    await fh.truncate(keep);
    await fh.sync();
  }

  private async flush(chunks: Buffer[]): Promise<void> {
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (this.tornTail) {
      this.size = await shrinkTo(this.fh!, this.size);
      this.tornTail = false;
    }
    if (this.policy.maxBytes > 0 && this.size > 0 && this.size + data.length > this.policy.maxBytes) {
      await this.rotate();
    }
    const fh = this.fh!;
    const before = this.size;
    try {
      // One write may write only part of the bytes without an error (file system full, file size limit).
      await writeFully(fh, [data], data.length);
      if (this.policy.fsync) await fh.datasync();
    } catch (err) {
      // Leave no partial line behind (e.g. after ENOSPC): the caller retries the whole batch.
      try {
        this.size = await shrinkTo(fh, before);
      } catch {
        this.tornTail = true;
      }
      throw err;
    }
    this.size = before + data.length;
  }

  private async rotate(): Promise<void> {
    await this.fh!.close();
    this.fh = undefined;
    let target: string | undefined;
    try {
      target = await this.freeBackupName();
      await rename(this.path, target);
    } finally {
      // Whatever happened, keep an open file: after a failed rename we go on appending to the old one.
      this.fh = await this.openFile(this.path, 'a+');
      this.size = (await this.fh.stat()).size;
    }
    await syncDir(this.dir);
    this.logger.info({ file: this.path, rotatedTo: target }, 'rotated audit file');
    await this.prune();
  }

  private backupName(date: Date, n: number): string {
    const stamp = (this.policy.localtime ? localIso(date) : date.toISOString().slice(0, -1)).replace(/:/g, '-');
    return join(this.dir, `${this.stem}-${stamp}${n > 0 ? `.${n}` : ''}${this.ext}`);
  }

  private async freeBackupName(): Promise<string> {
    const date = this.now();
    for (let n = 0; ; n++) {
      const name = this.backupName(date, n);
      try {
        await stat(name);
      } catch {
        return name;
      }
    }
  }

  /** Rotated files of this file, oldest first: by timestamp, then by the `.n` of same-millisecond rotations. */
  async backups(): Promise<string[]> {
    const prefix = `${this.stem}-`;
    const pattern = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})(?:\.(\d+))?$/;
    const found: { name: string; stamp: string; n: number }[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.startsWith(prefix) || !name.endsWith(this.ext)) continue;
      const m = pattern.exec(name.slice(prefix.length, name.length - this.ext.length));
      if (m) found.push({ name, stamp: m[1]!, n: Number(m[2] ?? 0) });
    }
    found.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.n - b.n));
    return found.map((f) => join(this.dir, f.name));
  }

  private async prune(): Promise<void> {
    const { maxBackups, maxAgeMs } = this.policy;
    if (maxBackups === 0 && maxAgeMs === 0) return;
    const files = await this.backups();
    const doomed = new Set<string>();
    if (maxBackups > 0) for (const f of files.slice(0, Math.max(0, files.length - maxBackups))) doomed.add(f);
    if (maxAgeMs > 0) {
      const cutoff = this.now().getTime() - maxAgeMs;
      for (const f of files) {
        if ((await stat(f)).mtimeMs < cutoff) doomed.add(f);
      }
    }
    for (const f of doomed) {
      await unlink(f);
      this.logger.info({ file: f }, 'deleted rotated audit file (retention)');
    }
    if (doomed.size > 0) await syncDir(this.dir);
  }
}

function localIso(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}
