import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceConfig } from './config/load.js';
import { DeadLetterStore } from './deadletter/dead-letter-store.js';
import { Spool, type SpoolObserver } from './spool/spool.js';
import { lockDirectory } from './storage/lock.js';
import type { Logger } from './telemetry/logger.js';

/**
 * The most recent spool data kept in memory for exporters that keep up. More only helps an exporter
 * that is further behind, which then reads its records from the segment files (the page cache, most
 * likely) a few MiB at a time; every MiB here is resident memory of the sidecar.
 */
const MAX_CACHE_BYTES = 8 * 1024 * 1024;

/** Where the parts of the storage directory live. */
export function storagePaths(directory: string) {
  return { queue: join(directory, 'queue'), deadLetter: join(directory, 'dead-letter') };
}

/** The storage directory, opened and locked: the spool and the dead-letter store. */
export interface Storage {
  readonly directory: string;
  readonly spool: Spool;
  readonly deadLetters: DeadLetterStore;
  /** Closes the stores (persisting cursors) and releases the lock. */
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  readonly logger: Logger;
  readonly observer?: SpoolObserver;
  /**
   * A tool that opens the storage with a config that may not list every exporter of the sidecar
   * (replay): keep the cursors of exporters it does not know, and use a small read cache.
   */
  readonly tool?: boolean;
}

/**
 * Opens the storage of a config the one way every command does: takes the directory's lock (waiting
 * out a stale one), then the dead-letter store and the spool with one cursor per configured exporter.
 */
export async function openStorage(config: ServiceConfig, options: OpenStorageOptions): Promise<Storage> {
  const { directory, maxSizeBytes, segmentSizeBytes, fsync } = config.storage;
  const { logger } = options;
  const paths = storagePaths(directory);
  await mkdir(directory, { recursive: true });
  const unlock = await lockDirectory(directory, {
    onWait: (holder, maxWaitMs) =>
      logger.warn(
        { directory, holder, maxWaitMs },
        'storage directory is locked by a process whose pid cannot be checked from here; waiting for its heartbeat to stop',
      ),
  });
  const deadLetters = new DeadLetterStore(paths.deadLetter);
  let spool: Spool;
  try {
    spool = await Spool.open({
      directory: paths.queue,
      maxSizeBytes,
      segmentSizeBytes,
      fsync,
      cacheBytes: options.tool ? 1024 * 1024 : Math.min(MAX_CACHE_BYTES, Math.max(1024 * 1024, maxSizeBytes / 16)),
      consumers: config.exporters.map((e) => e.id),
      logger: logger.child({ component: 'spool' }),
      ...(options.observer === undefined ? {} : { observer: options.observer }),
      keepOtherCursors: options.tool === true,
    });
  } catch (err) {
    await deadLetters.close().catch(() => undefined);
    await unlock();
    throw err;
  }
  return {
    directory,
    spool,
    deadLetters,
    async close() {
      try {
        await spool.close();
        await deadLetters.close();
      } finally {
        await unlock();
      }
    },
  };
}
