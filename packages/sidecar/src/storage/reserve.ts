import { randomFillSync } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { isOutOfSpace, type WithRoom } from './space.js';

export interface ReserveEvents {
  /** The reserve was deleted so that `what` could be written. */
  readonly onRelease?: (what: string, bytes: number) => void;
  /** The reserve is complete again after it was used. */
  readonly onRestore?: (bytes: number) => void;
}

const CHUNK = 64 * 1024;

/**
 * A file of `bytes` bytes kept in the storage directory so that a full volume can still take the
 * writes that free space or must not fail: the cursors (whose save lets consumed segments be
 * deleted), the LOCK and exporter dead letters. When such a write fails for lack of space the file is
 * deleted (its blocks and its inode become free) and the write is tried again. Until the reserve is
 * whole again, new data (records, receiver dead letters) is refused, so the reserve gets the space
 * that comes back first. Filled with random bytes: a compressing file system would not store zeros.
 */
export class SpaceReserve {
  /** The reserve was used and is not whole again. */
  private used = false;
  private refilling: Promise<boolean> | undefined;
  /** Counts releases: a refill that overlapped one does not count. */
  private releases = 0;

  constructor(
    readonly path: string,
    readonly bytes: number,
    private readonly events: ReserveEvents = {},
  ) {}

  /** Creates the reserve file or tops it up; false if there is not room for all of it (what fits is kept). */
  async fill(): Promise<boolean> {
    if (this.bytes <= 0) return true;
    let fh;
    try {
      fh = await open(this.path, 'a');
    } catch (err) {
      if (isOutOfSpace(err)) return false;
      throw err;
    }
    try {
      let size = (await fh.stat()).size;
      if (size >= this.bytes) return true;
      const chunk = randomFillSync(Buffer.allocUnsafe(CHUNK));
      try {
        while (size < this.bytes) {
          const { bytesWritten } = await fh.write(chunk, 0, Math.min(CHUNK, this.bytes - size));
          if (bytesWritten <= 0) return false;
          size += bytesWritten;
        }
        await fh.sync();
      } catch (err) {
        if (isOutOfSpace(err)) return false;
        throw err;
      }
      return true;
    } finally {
      await fh.close();
    }
  }

  /** Deletes the reserve file; returns whether there was one. */
  async release(what: string): Promise<boolean> {
    if (this.bytes <= 0) return false;
    try {
      await unlink(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    this.used = true;
    this.releases++;
    this.events.onRelease?.(what, this.bytes);
    return true;
  }

  /** Whether the reserve was used and is not whole again. */
  isUsed(): boolean {
    return this.used;
  }

  /** See {@link WithRoom}. */
  readonly withRoom: WithRoom = async (what, write) => {
    try {
      return await write();
    } catch (err) {
      if (!isOutOfSpace(err) || !(await this.release(what))) throw err;
      return write();
    }
  };

  /**
   * Before new data takes space: undefined while the reserve is whole; after it was used, a promise
   * that refills it first and rejects (ENOSPC) if that is not possible yet.
   */
  beforeNewData(): Promise<void> | undefined {
    if (!this.used) return undefined;
    return this.refill().then((whole) => {
      if (!whole) {
        throw Object.assign(new Error('no space left on device: the storage space reserve is not restored yet'), {
          code: 'ENOSPC',
        });
      }
    });
  }

  /** Refills a used reserve (one attempt at a time); resolves with whether it is whole. */
  refill(): Promise<boolean> {
    if (!this.used) return Promise.resolve(true);
    const releases = this.releases;
    this.refilling ??= this.fill()
      .then((whole) => {
        if (whole && this.used && releases === this.releases) {
          this.used = false;
          this.events.onRestore?.(this.bytes);
        }
        return whole;
      })
      .finally(() => (this.refilling = undefined));
    return this.refilling;
  }
}
