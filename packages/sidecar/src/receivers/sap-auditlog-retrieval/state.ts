import { mkdir, open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../storage/fs-util.js';

/*
 * The receiver's state under its state directory:
 *
 * - `checkpoint.json` (replaced atomically when a window is complete): the end of the last complete
 *   window and the uuids, with their times, of the records seen in the overlap before it.
 * - `window.jsonl` (the window in progress; a journal, each line fdatasync'ed): a header naming the
 *   window, then per page a `mark` line (the spool's position) before the records are written to
 *   the spool and a `stored` line (their uuids) after. A `mark` line with no `stored` line after
 *   it is a write a crash interrupted: the spool, read from the mark, tells which records made it.
 */

const CHECKPOINT = 'checkpoint.json';
const JOURNAL = 'window.jsonl';

/** uuid → record time (epoch ms). */
export type SeenRecords = Map<string, number>;

export interface Checkpoint {
  /** End of the last complete window (epoch ms). */
  readonly windowEnd: number;
  /** Records seen with a time at or after `windowEnd − overlap`. */
  readonly seen: SeenRecords;
}

export interface Window {
  readonly from: number;
  readonly to: number;
}

/** A window a crash interrupted, as the journal tells it. */
export interface InterruptedWindow extends Window {
  readonly stored: SeenRecords;
  /** The spool position of a write whose outcome the journal does not know. */
  readonly pendingMark: number | undefined;
}

interface CheckpointFile {
  readonly version: 1;
  readonly system_id: string;
  readonly window_end: string;
  readonly seen: [string, number][];
}

type JournalLine = { window: { from: number; to: number } } | { mark: number } | { stored: [string, number][] };

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class RetrievalState {
  private journal: FileHandle | undefined;

  private constructor(
    readonly directory: string,
    private readonly systemId: string,
    /** The checkpoint as stored (undefined before the first complete window). */
    public checkpoint: Checkpoint | undefined,
    /** The system id the checkpoint was written for, when it differs from the configured one. */
    readonly checkpointSystemId: string | undefined,
  ) {}

  /** Reads the state directory (creating it): the checkpoint, and the window a crash interrupted, if any. */
  static async open(
    directory: string,
    systemId: string,
  ): Promise<{ state: RetrievalState; interrupted: InterruptedWindow | undefined }> {
    await mkdir(directory, { recursive: true });
    const text = await readIfExists(join(directory, CHECKPOINT));
    let checkpoint: Checkpoint | undefined;
    let storedFor: string | undefined;
    if (text !== undefined) {
      const file = JSON.parse(text) as CheckpointFile;
      if (file.version !== 1)
        throw new Error(`${join(directory, CHECKPOINT)}: unknown version ${String(file.version)}`);
      checkpoint = { windowEnd: Date.parse(file.window_end), seen: new Map(file.seen) };
      if (file.system_id !== systemId) storedFor = file.system_id;
    }
    const state = new RetrievalState(directory, systemId, checkpoint, storedFor);
    const interrupted = await state.readJournal();
    return { state, interrupted };
  }

  private async readJournal(): Promise<InterruptedWindow | undefined> {
    const path = join(this.directory, JOURNAL);
    const text = await readIfExists(path);
    if (text === undefined) return undefined;
    let window: Window | undefined;
    const stored: SeenRecords = new Map();
    let pendingMark: number | undefined;
    // A crash can tear the last line: it is the only one that may not parse, and it is dropped.
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line) as JournalLine;
      } catch {
        break;
      }
      if ('window' in entry) window = entry.window;
      else if ('mark' in entry) pendingMark = entry.mark;
      else {
        for (const [uuid, time] of entry.stored) stored.set(uuid, time);
        pendingMark = undefined;
      }
    }
    if (window === undefined || (this.checkpoint !== undefined && window.to <= this.checkpoint.windowEnd)) {
      // Finished (the checkpoint was written, the journal not yet removed) or never begun.
      await unlink(path);
      return undefined;
    }
    return { ...window, stored, pendingMark };
  }

  /** Starts the journal of a window. */
  async beginWindow(window: Window): Promise<void> {
    await this.writeJournal(window, new Map());
  }

  /**
   * Rewrites the journal of a window with what is known to be stored (after a crash or a failed
   * write was resolved), so no `mark` line is left open.
   */
  async writeJournal(window: Window, stored: SeenRecords): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
    let text = `${JSON.stringify({ window: { from: window.from, to: window.to } })}\n`;
    if (stored.size > 0) text += `${JSON.stringify({ stored: [...stored] })}\n`;
    await writeFileAtomic(this.directory, JOURNAL, text);
    this.journal = await open(join(this.directory, JOURNAL), 'a');
  }

  /** Before a write to the spool: where the spool stands. */
  markPending(mark: number): Promise<void> {
    return this.append({ mark });
  }

  /** After the write: the records it stored. */
  recordStored(records: readonly (readonly [string, number])[]): Promise<void> {
    return this.append({ stored: records as [string, number][] });
  }

  private async append(line: JournalLine): Promise<void> {
    if (this.journal === undefined) throw new Error('no window in progress');
    await this.journal.write(`${JSON.stringify(line)}\n`);
    await this.journal.datasync();
  }

  /** The window is imported: the checkpoint moves to its end, and the journal goes. */
  async completeWindow(checkpoint: Checkpoint): Promise<void> {
    const file: CheckpointFile = {
      version: 1,
      system_id: this.systemId,
      window_end: new Date(checkpoint.windowEnd).toISOString(),
      seen: [...checkpoint.seen],
    };
    await writeFileAtomic(this.directory, CHECKPOINT, JSON.stringify(file));
    this.checkpoint = checkpoint;
    await this.journal?.close();
    this.journal = undefined;
    await unlink(join(this.directory, JOURNAL)).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
  }

  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
  }
}
