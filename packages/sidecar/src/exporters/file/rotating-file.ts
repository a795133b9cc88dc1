import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { ensureParentDir, syncDir } from '../../storage/fs-util.js';
import { GroupCommit } from '../../storage/group-commit.js';
import { shrinkTo, writeFully, type OpenFile } from '../../storage/write-fully.js';
import type { Logger } from '../../telemetry/logger.js';
import { Chain, plainLines, type ChainHead, type EncodedLines } from './chain.js';
import { readLastLine, readTail } from './file-tail.js';

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

export interface RotatingFileOptions {
  /** Chain the records' lines (see chain.ts); appends then take records, not raw lines. */
  readonly chain?: boolean;
  /** Called right after the active file was renamed to `rotatedTo`, before anything goes into the new one. */
  readonly onRotate?: (rotatedTo: string) => void;
}

type Item = { readonly raw: Buffer } | { readonly records: readonly Buffer[] };

/**
 * An append-only line file with size-based rotation (`audit.jsonl` → `audit-2026-11-21T10-00-00.000.jsonl`)
 * and retention of rotated files. Appends from concurrent callers share one write and one fdatasync.
 * A failed open (e.g. no inodes left when a rotation creates the new file) leaves no handle behind:
 * the next append opens the file again, so appends recover once the file system does.
 */
export class RotatingFile {
  private fh: FileHandle | undefined;
  /** Open for appends (the handle itself may be absent after a failed open: the next flush opens again). */
  private opened = false;
  /** The last open failed (logged once; recovery is logged). */
  private openFailing = false;
  /** Exact length of the active file: only bytes known to be written count. */
  private size = 0;
  /** A failed append could not be cut back: bytes past `size` must go before the next append. */
  private tornTail = false;
  private chain: Chain | undefined;
  private readonly commit = new GroupCommit<Item>((items) => this.flush(items));
  private readonly dir: string;
  private readonly stem: string;
  private readonly ext: string;

  constructor(
    readonly path: string,
    private readonly policy: RotationPolicy,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
    private readonly openFile: OpenFile = open,
    private readonly options: RotatingFileOptions = {},
  ) {
    this.dir = dirname(path);
    this.ext = extname(path);
    this.stem = basename(path, this.ext);
  }

  async open(): Promise<void> {
    await ensureParentDir(this.path);
    await this.reopen();
    if (this.options.chain) this.chain = Chain.after(await this.lastLine());
    this.opened = true;
    await this.prune();
  }

  /** Where the chain stands after the last write (undefined without a chain). */
  chainHead(): ChainHead | undefined {
    return this.chain?.head();
  }

  /** The last `bytes` of the active file (whole lines only), e.g. to see what was written before a crash. */
  async tail(bytes: number): Promise<string> {
    if (this.fh === undefined) return '';
    return readTail(this.fh, this.size, bytes);
  }

  /**
   * The uuids at the start of the trail's last lines (`{"message_uuid":"…"`), newest first: at most
   * `maxCount`, read from at most the last `maxBytes` of the active file and the newest rotated files.
   */
  async recentUuids(maxCount: number, maxBytes: number): Promise<string[]> {
    const uuids: string[] = [];
    let budget = maxBytes;
    const files = [...(await this.backups()), this.path];
    for (let i = files.length - 1; i >= 0 && budget > 0 && uuids.length < maxCount; i--) {
      const fh = i === files.length - 1 ? this.fh : await open(files[i]!, 'r');
      if (fh === undefined) continue;
      try {
        const size = fh === this.fh ? this.size : (await fh.stat()).size;
        budget -= await collectUuids(fh, size, Math.min(size, budget), maxCount, uuids);
      } finally {
        if (fh !== this.fh) await fh.close();
      }
    }
    return uuids;
  }

  /** Appends complete lines (unchained files only); resolves when they are written (and fdatasync'ed if configured). */
  append(lines: Buffer | string): Promise<void> {
    if (!this.opened) return Promise.reject(new Error(`${this.path} is not open`));
    if (this.chain !== undefined) return Promise.reject(new Error(`${this.path} is chained: append records`));
    return this.commit.submit({ raw: typeof lines === 'string' ? Buffer.from(lines) : lines });
  }

  /** Appends records (each a JSON object without newline) as lines, chained if the file is. */
  appendRecords(records: readonly Buffer[]): Promise<void> {
    if (!this.opened) return Promise.reject(new Error(`${this.path} is not open`));
    return this.commit.submit({ records });
  }

  async close(): Promise<void> {
    this.opened = false;
    await this.commit.idle();
    await this.fh?.close();
    this.fh = undefined;
  }

  /** Opens the active file for appending (cutting a partial last line); on failure no handle is kept. */
  private async reopen(): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await this.openFile(this.path, 'a+');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (!this.openFailing) this.logger.error({ file: this.path, code: e.code }, 'cannot open the audit file');
      this.openFailing = true;
      throw Object.assign(new Error(`cannot open the audit file ${this.path}: ${e.message}`, { cause: err }), {
        code: e.code,
      });
    }
    try {
      this.size = await this.repairTornTail(fh);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    this.tornTail = false;
    this.fh = fh;
    if (this.openFailing) this.logger.info({ file: this.path }, 'audit file open again');
    this.openFailing = false;
  }

  /** The trail's last line: the active file's, or the newest rotated file's if the active one is empty. */
  private async lastLine(): Promise<Buffer | undefined> {
    if (this.size > 0) return readLastLine(this.fh!, this.size);
    const newest = (await this.backups()).at(-1);
    if (newest === undefined) return undefined;
    const fh = await open(newest, 'r');
    try {
      return await readLastLine(fh, (await fh.stat()).size);
    } finally {
      await fh.close();
    }
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

  private encode(items: readonly Item[]): EncodedLines {
    if (this.chain !== undefined) return this.chain.encode(items.flatMap((i) => ('records' in i ? i.records : [])));
    const buffers: Buffer[] = [];
    let bytes = 0;
    for (const item of items) {
      const lines = 'raw' in item ? { buffers: [item.raw], bytes: item.raw.length } : plainLines(item.records);
      buffers.push(...lines.buffers);
      bytes += lines.bytes;
    }
    return { buffers, bytes, commit: () => undefined };
  }

  private async flush(items: Item[]): Promise<void> {
    const encoded = this.encode(items);
    const data = encoded.buffers.length === 1 ? encoded.buffers[0]! : Buffer.concat(encoded.buffers, encoded.bytes);
    if (this.fh === undefined) await this.reopen();
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
    encoded.commit();
  }

  /** Renames the active file away and opens a new one; throws (with no handle kept) if that open fails. */
  private async rotate(): Promise<void> {
    const old = this.fh!;
    this.fh = undefined;
    await old
      .close()
      .catch((err: unknown) => this.logger.warn({ err, file: this.path }, 'closing the audit file failed'));
    let target: string;
    try {
      target = await this.freeBackupName();
      await rename(this.path, target);
    } catch (err) {
      // Go on appending to the old file.
      await this.reopen();
      throw err;
    }
    this.options.onRotate?.(target);
    this.logger.info({ file: this.path, rotatedTo: target }, 'rotated audit file');
    await this.reopen();
    await syncDir(this.dir);
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
    return rotatedFiles(this.path, await readdir(this.dir));
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

const UUID_AT_START = /^\{"message_uuid":"([^"]+)"/;
const RECENT_CHUNK = 1024 * 1024;

/** Adds the uuids of the lines in the last `bytes` of a file (newest first) to `out`, up to `maxCount`; returns the bytes read. */
async function collectUuids(
  fh: FileHandle,
  size: number,
  bytes: number,
  maxCount: number,
  out: string[],
): Promise<number> {
  const stop = size - bytes;
  let end = size;
  // The start of the line that the region read before began in the middle of.
  let carry = Buffer.alloc(0);
  while (end > stop && out.length < maxCount) {
    const start = Math.max(stop, end - RECENT_CHUNK);
    const chunk = Buffer.alloc(end - start);
    await fh.read(chunk, 0, chunk.length, start);
    const text = carry.length === 0 ? chunk : Buffer.concat([chunk, carry]);
    const firstNl = text.indexOf(0x0a);
    // Lines after the first newline are whole; the part before it is whole only at the file's start.
    const from = start === 0 ? 0 : firstNl + 1;
    const lines: Buffer[] = [];
    for (let pos = from; pos < text.length;) {
      const nl = text.indexOf(0x0a, pos);
      if (nl < 0) break;
      lines.push(text.subarray(pos, Math.min(nl, pos + 200)));
      pos = nl + 1;
    }
    for (let i = lines.length - 1; i >= 0 && out.length < maxCount; i--) {
      const m = UUID_AT_START.exec(lines[i]!.toString('utf8'));
      if (m) out.push(m[1]!);
    }
    carry = firstNl < 0 ? text : text.subarray(0, firstNl + 1);
    end = start;
  }
  return size - end;
}

const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3})(?:\.(\d+))?$/;

/**
 * The rotated files of the audit file `path` among the directory entries `names`, oldest first (as
 * full paths). With `gzipped`, `<name>.gz` (a rotated file compressed by hand) counts as well.
 */
export function rotatedFiles(path: string, names: readonly string[], gzipped = false): string[] {
  const dir = dirname(path);
  const ext = extname(path);
  const prefix = `${basename(path, ext)}-`;
  const found: { name: string; stamp: string; n: number }[] = [];
  for (const name of names) {
    const plain = gzipped && name.endsWith(`${ext}.gz`) ? name.slice(0, -3) : name;
    if (!plain.startsWith(prefix) || !plain.endsWith(ext)) continue;
    const m = STAMP.exec(plain.slice(prefix.length, plain.length - ext.length));
    if (m) found.push({ name, stamp: m[1]!, n: Number(m[2] ?? 0) });
  }
  found.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.n - b.n));
  return found.map((f) => join(dir, f.name));
}

function localIso(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}
