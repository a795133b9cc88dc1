import { access, open, type FileHandle } from 'node:fs/promises';
import type { OpenFile } from '../../../src/storage/write-fully.js';

/**
 * A pretend disk for real files: handles opened through `open` write only what `space` allows (like
 * write(2) on a full file system: a short write without an error, then ENOSPC once nothing fits), at
 * most `maxPerWrite` bytes per call, and fail the next `failDatasync` / `failTruncate` calls with EIO.
 * With `noInodes`, opening a file that does not exist yet fails with ENOSPC (as creat(2) does when
 * the file system has no free inodes); `failOpen` fails the next opens with EMFILE.
 */
export class FaultyDisk {
  space = Infinity;
  maxPerWrite = Infinity;
  failDatasync = 0;
  failTruncate = 0;
  noInodes = false;
  failOpen = 0;
  /** write/writev calls that wrote fewer bytes than asked. */
  shortWrites = 0;
  /** Opens refused (noInodes or failOpen). */
  refusedOpens = 0;

  readonly open: OpenFile = async (path, flags) => {
    if (this.failOpen > 0) {
      this.failOpen--;
      this.refusedOpens++;
      throw errno('EMFILE', `too many open files, open '${path}'`, 'open');
    }
    if (this.noInodes && !(await exists(path))) {
      this.refusedOpens++;
      throw errno('ENOSPC', `no space left on device, open '${path}'`, 'open');
    }
    return this.wrap(await open(path, flags));
  };

  private wrap(fh: FileHandle): FileHandle {
    const writeSome = async (data: Buffer): Promise<number> => {
      if (this.space <= 0) throw errno('ENOSPC', 'no space left on device', 'write');
      const n = Math.min(data.length, this.space, this.maxPerWrite);
      const { bytesWritten } = await fh.write(data, 0, n);
      this.space -= bytesWritten;
      if (bytesWritten < data.length) this.shortWrites++;
      return bytesWritten;
    };
    const overrides: Record<string, unknown> = {
      async write(data: Buffer | string, offset?: number, length?: number) {
        let buffer: Buffer;
        if (typeof data === 'string') buffer = Buffer.from(data);
        else {
          const start = offset ?? 0;
          buffer = data.subarray(start, start + (length ?? data.length - start));
        }
        return { bytesWritten: await writeSome(buffer), buffer: data };
      },
      async writev(buffers: Buffer[]) {
        return { bytesWritten: await writeSome(Buffer.concat(buffers)), buffers };
      },
      datasync: async () => {
        if (this.failDatasync > 0) {
          this.failDatasync--;
          throw errno('EIO', 'i/o error', 'fdatasync');
        }
        await fh.datasync();
      },
      truncate: async (len?: number) => {
        if (this.failTruncate > 0) {
          this.failTruncate--;
          throw errno('EIO', 'i/o error', 'ftruncate');
        }
        await fh.truncate(len);
      },
    };
    return new Proxy(fh, {
      get(target, prop) {
        if (typeof prop === 'string' && prop in overrides) return overrides[prop];
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function errno(code: string, message: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}, ${syscall}`), { code, syscall });
}
