import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDir } from './fs-util.js';

/*
 * A small state file written in place, for state that changes many times a second (positions,
 * pending acknowledgements): two fixed slots, written in turn. A write is one pwrite into the page
 * cache, synchronous and a few microseconds long, so it is safe from a crash of the process the
 * moment it returns; `sync` (fdatasync) makes it safe from a crash of the machine. No rename, no new
 * disk space (the file is preallocated), no metadata change. Slot layout (little-endian): magic
 * `OACL`, payload length (u32), check (u32: the first 4 bytes of the SHA-256 of the generation and
 * the payload), generation (u64), payload. The valid slot with the higher generation is the latest; a torn write leaves the other.
 */

const HEADER = 20;
const MAGIC = 0x4c43414f; // "OACL"

function check(data: Buffer): number {
  return createHash('sha256').update(data).digest().readUInt32LE(0);
}

/** What a slot file holds. */
export type SlotContent =
  | { readonly kind: 'ok'; readonly payload: Buffer; readonly generation: number }
  | { readonly kind: 'missing' }
  /** The file exists but no slot checks out. */
  | { readonly kind: 'damaged' };

/** The latest valid payload of the slot file at `path` (slots of `slotBytes`). */
export async function readSlotFile(path: string, slotBytes: number): Promise<SlotContent> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  let best: { payload: Buffer; generation: number } | undefined;
  let written = 0;
  for (let at = 0; at + HEADER <= data.length; at += slotBytes) {
    const slot = data.subarray(at, Math.min(data.length, at + slotBytes));
    if (slot.readUInt32LE(0) === 0 && slot.readUInt32LE(4) === 0) continue; // never written
    written++;
    const length = slot.readUInt32LE(4);
    if (slot.readUInt32LE(0) !== MAGIC || HEADER + length > slot.length) continue;
    if (check(slot.subarray(12, HEADER + length)) !== slot.readUInt32LE(8)) continue;
    const generation = Number(slot.readBigUInt64LE(12));
    if (best === undefined || generation > best.generation)
      best = { payload: Buffer.from(slot.subarray(HEADER, HEADER + length)), generation };
  }
  if (best !== undefined) return { kind: 'ok', ...best };
  return written > 0 ? { kind: 'damaged' } : { kind: 'missing' };
}

/** A slot file open for writing (see above). */
export class SlotFile {
  private unsyncedWrites = false;

  private constructor(
    private readonly fh: FileHandle,
    private readonly slotBytes: number,
    private generation: number,
  ) {}

  /**
   * Opens the slot file at `path`, creating it (zero-filled, renamed into place) when it is missing,
   * not of the expected size or `recreate` is set (its content could not be read); `generation` is the
   * one last read (0 for none).
   */
  static async open(path: string, slotBytes: number, generation: number, recreate = false): Promise<SlotFile> {
    if (!recreate) {
      try {
        const fh = await open(path, 'r+');
        if ((await fh.stat()).size === 2 * slotBytes) return new SlotFile(fh, slotBytes, generation);
        await fh.close();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const tmp = `${path}.tmp`;
    const fresh = await open(tmp, 'w');
    try {
      await fresh.writeFile(Buffer.alloc(2 * slotBytes));
      await fresh.sync();
    } finally {
      await fresh.close();
    }
    await rename(tmp, path);
    await syncDir(dirname(path));
    return new SlotFile(await open(path, 'r+'), slotBytes, generation);
  }

  /** Largest payload a slot holds. */
  get capacity(): number {
    return this.slotBytes - HEADER;
  }

  /** Writes `payload` into the older slot, synchronously, into the page cache (see `sync`). */
  write(payload: Buffer): void {
    if (payload.length > this.capacity)
      throw new Error(`${payload.length} bytes do not fit into a slot of ${this.capacity}`);
    const generation = this.generation + 1;
    const slot = Buffer.allocUnsafe(HEADER + payload.length);
    slot.writeUInt32LE(MAGIC, 0);
    slot.writeUInt32LE(payload.length, 4);
    slot.writeBigUInt64LE(BigInt(generation), 12);
    payload.copy(slot, HEADER);
    slot.writeUInt32LE(check(slot.subarray(12)), 8);
    const position = (generation % 2) * this.slotBytes;
    for (let done = 0; done < slot.length;)
      done += writeSync(this.fh.fd, slot, done, slot.length - done, position + done);
    this.generation = generation;
    this.unsyncedWrites = true;
  }

  /** Whether something was written since the last `sync` began. */
  get unsynced(): boolean {
    return this.unsyncedWrites;
  }

  /** fdatasync: what was written survives a crash of the machine. */
  async sync(): Promise<void> {
    if (!this.unsyncedWrites) return;
    this.unsyncedWrites = false;
    try {
      await this.fh.datasync();
    } catch (err) {
      this.unsyncedWrites = true;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
