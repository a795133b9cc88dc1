import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceConfig } from './config/load.js';
import { DeadLetterStore } from './deadletter/dead-letter-store.js';
import { Spool, type SpoolObserver } from './spool/spool.js';
import { storageGuard, type StorageGuard } from './storage/guard.js';
import { lockDirectory, type DirectoryLock } from './storage/lock.js';
import { SpaceReserve } from './storage/reserve.js';
import type { Logger } from './telemetry/logger.js';

/**
 * The most recent spool data kept in memory for exporters that keep up. More only helps an exporter
 * that is further behind, which then reads its records from the segment files (the page cache, most
 * likely) a few MiB at a time; every MiB here is resident memory of the sidecar.
 */
const MAX_CACHE_BYTES = 8 * 1024 * 1024;

/** Where the parts of the storage directory live. */
export function storagePaths(directory: string) {
  return {
    queue: join(directory, 'queue'),
    deadLetter: join(directory, 'dead-letter'),
    reserve: join(directory, 'space-reserve'),
  };
}

/** Memory the spool keeps of recently written records (the intake memory budget leaves it room). */
export function spoolCacheBytes(maxSizeBytes: number): number {
  return Math.min(MAX_CACHE_BYTES, Math.max(1024 * 1024, maxSizeBytes / 16));
}

/** The storage directory, opened and locked: the spool and the dead-letter store. */
export interface Storage {
  readonly directory: string;
  readonly spool: Spool;
  readonly deadLetters: DeadLetterStore;
  /** The directory's lock: `onLost` tells when another process has taken the storage over. */
  readonly lock: DirectoryLock;
  readonly guard: StorageGuard;
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
  /** Receiver dead letters not kept because the dead-letter store is full (see DeadLetterStore). */
  readonly onDeadLetterOverflow?: (componentId: string, records: number, usedBytes: number, maxBytes: number) => void;
}

/**
 * Opens the storage of a config the one way every command does: takes the directory's lock (waiting
 * out a stale one), puts the space reserve in place, then the dead-letter store and the spool with
 * one cursor per configured exporter.
 */
export async function openStorage(config: ServiceConfig, options: OpenStorageOptions): Promise<Storage> {
  const { directory, maxSizeBytes, segmentSizeBytes, fsync } = config.storage;
  const { logger } = options;
  const paths = storagePaths(directory);
  await mkdir(directory, { recursive: true });
  const reserve = new SpaceReserve(paths.reserve, config.storage.reserveBytes, {
    onRelease: (what, bytes) =>
      logger.warn({ directory, bytes, for: what }, 'volume full: released the storage space reserve'),
    onRestore: (bytes) => logger.info({ directory, bytes }, 'storage space reserve restored'),
  });
  const lock = await lockDirectory(directory, {
    timings: config.storage.lock,
    withRoom: reserve.withRoom,
    onWait: (holder, maxWaitMs) =>
      logger.warn(
        { directory, holder, maxWaitMs },
        'storage directory is locked by a process whose pid cannot be checked from here; waiting for its heartbeat to stop',
      ),
    onTakeover: (holder, why, unverified) => {
      const fields = { directory, holder, why };
      if (unverified || holder.startsWith('an unreadable')) logger.warn(fields, 'took over the storage lock');
      else logger.info(fields, 'took over the storage lock of a process that is gone');
    },
  });
  try {
    if (!(await reserve.fill()))
      logger.warn({ directory, bytes: reserve.bytes }, 'not enough free space for the whole storage space reserve');
  } catch (err) {
    logger.warn({ err, directory }, 'cannot create the storage space reserve');
  }
  const guard = storageGuard(lock, reserve);
  const deadLetters = new DeadLetterStore(paths.deadLetter, undefined, {
    maxBytes: config.storage.deadLetterMaxBytes,
    guard,
    ...(options.onDeadLetterOverflow === undefined ? {} : { onOverflow: options.onDeadLetterOverflow }),
  });
  let spool: Spool;
  try {
    await deadLetters.usedBytes();
    spool = await Spool.open({
      directory: paths.queue,
      maxSizeBytes,
      segmentSizeBytes,
      fsync,
      cacheBytes: options.tool ? 1024 * 1024 : spoolCacheBytes(maxSizeBytes),
      consumers: config.exporters.map((e) => e.id),
      logger: logger.child({ component: 'spool' }),
      ...(options.observer === undefined ? {} : { observer: options.observer }),
      keepOtherCursors: options.tool === true,
      guard,
      startNewSegment: lock.tookOverUnverified,
    });
  } catch (err) {
    await deadLetters.close().catch(() => undefined);
    await lock.release();
    throw err;
  }
  return {
    directory,
    spool,
    deadLetters,
    lock,
    guard,
    async close() {
      try {
        // After the lock was lost nothing may be written: no cursors, no head mark.
        if (lock.lost() === undefined) await spool.close();
        else await spool.abandon();
        await deadLetters.close();
      } finally {
        await lock.release();
      }
    },
  };
}
