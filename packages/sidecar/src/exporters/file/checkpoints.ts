import { appendFile, open, readFile } from 'node:fs/promises';
import type { Logger } from '../../telemetry/logger.js';
import type { ChainHead } from './chain.js';
import { signNote, type NoteSigner } from './signed-note.js';

/*
 * Checkpoints of an audit file's chain, in `<path>.checkpoints`: one JSON line `{"note":"…"}` per
 * checkpoint, the note a C2SP-style signed note whose text is
 *   <origin>
 *   <records in the trail>
 *   <base64 SHA-256 of the trail's last line>
 *   time <RFC 3339>
 *   rotated <file name>        (only in a checkpoint written at a rotation: the file the head is in)
 */

export function checkpointsPath(auditPath: string): string {
  return `${auditPath}.checkpoints`;
}

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  /** Hex SHA-256 of line `size - 1`. */
  readonly hash: string;
  readonly time: string;
  readonly rotated: string | undefined;
}

export function checkpointText(origin: string, head: ChainHead, time: Date, rotated?: string): string {
  const hash = Buffer.from(head.hash, 'hex').toString('base64');
  return `${origin}\n${head.size}\n${hash}\ntime ${time.toISOString()}\n${rotated === undefined ? '' : `rotated ${rotated}\n`}`;
}

export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  const [origin, size, hash] = lines;
  const extra = (key: string) => lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);
  if (origin === undefined || origin === '' || !/^\d+$/.test(size ?? '') || !/^[A-Za-z0-9+/]{43}=$/.test(hash ?? '')) {
    throw new Error('not a checkpoint (origin, record count, base64 hash)');
  }
  return {
    origin,
    size: Number(size),
    hash: Buffer.from(hash!, 'base64').toString('hex'),
    time: extra('time') ?? '',
    rotated: extra('rotated'),
  };
}

/**
 * Writes checkpoints. A checkpoint that cannot be written (full disk) stays queued and is written
 * with the next one: checkpoints never hold up the audit records.
 */
export class CheckpointWriter {
  private pending: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private last: ChainHead | undefined;

  constructor(
    readonly path: string,
    private readonly origin: string,
    private readonly signer: NoteSigner | undefined,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether `head` is past the last checkpoint. */
  behind(head: ChainHead): boolean {
    return this.last === undefined ? head.size > 0 : head.size !== this.last.size || head.hash !== this.last.hash;
  }

  /** Queues a checkpoint of `head` and writes what is queued; resolves when that is done (or failed, logged). */
  record(head: ChainHead, rotated?: string): Promise<void> {
    const note = signNote(checkpointText(this.origin, head, this.now(), rotated), this.signer);
    this.pending.push(`${JSON.stringify({ note })}\n`);
    this.last = head;
    return this.flush();
  }

  /** Writes queued checkpoints. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      try {
        await appendFile(this.path, batch.join(''));
        const fh = await open(this.path, 'r+');
        try {
          await fh.datasync();
        } finally {
          await fh.close();
        }
      } catch (err) {
        this.pending = [...batch, ...this.pending];
        this.logger.error({ err, file: this.path }, 'cannot write the audit file checkpoint; will retry');
      }
    });
    return this.writing;
  }
}

/** The checkpoint lines of an audit file, oldest first (none if the file does not exist); `note` undefined: not readable. */
export async function readCheckpointNotes(path: string): Promise<{ line: number; note: string | undefined }[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: { line: number; note: string | undefined }[] = [];
  text.split('\n').forEach((l, i) => {
    if (l === '') return;
    let note: unknown;
    try {
      note = (JSON.parse(l) as { note?: unknown }).note;
    } catch {
      note = undefined;
    }
    out.push({ line: i + 1, note: typeof note === 'string' ? note : undefined });
  });
  return out;
}
