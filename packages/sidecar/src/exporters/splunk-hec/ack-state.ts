import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readSlotFile, SlotFile } from '../../storage/slot-file.js';
import type { Logger } from '../../telemetry/logger.js';

/** A request HEC accepted with an ackId and has not yet reported indexed: its records by spool sequence number. */
export interface PendingAck {
  readonly id: number;
  /** Epoch ms after which it counts as not indexed (sent at + ack_timeout). */
  readonly deadline: number;
  /** Sequence number ranges `[from, to)` of its records. */
  readonly seqs: readonly (readonly [number, number])[];
}

const FILE = 'acks';
const SLOT_BYTES = 64 * 1024;

interface Stored {
  version: 1;
  channel: string;
  /** `[ackId, deadline, [[from, to], …]]` */
  pending: [number, number, [number, number][]][];
}

/**
 * What the `splunk_hec` exporter with `ack: true` keeps across restarts (in its state directory):
 * its channel and the requests HEC accepted but has not acknowledged yet. After a crash the
 * exporter uses the same channel and asks HEC about those ackIds before it sends their records
 * again, so events HEC indexed are not indexed twice. Written at once into a slot file (see
 * storage/slot-file.ts; a crash of the process loses nothing), fdatasynced in the background.
 */
export class AckState {
  private readonly pending = new Map<number, PendingAck>();
  private scheduled: NodeJS.Immediate | undefined;
  private syncing: Promise<void> | undefined;
  private failed = false;

  private constructor(
    private readonly file: SlotFile,
    readonly channel: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Reads the state in `directory` (created if missing); `newChannel` names the channel when there
   * is no state. Returns the requests that were pending at the last stop.
   */
  static async open(
    directory: string,
    newChannel: () => string,
    logger: Logger,
  ): Promise<{ state: AckState; recovered: PendingAck[] }> {
    await mkdir(directory, { recursive: true });
    const path = join(directory, FILE);
    const content = await readSlotFile(path, SLOT_BYTES);
    let stored: Stored | undefined;
    if (content.kind === 'ok') stored = parse(content.payload.toString('utf8'));
    if (content.kind === 'damaged' || (content.kind === 'ok' && stored === undefined)) {
      logger.warn(
        { file: path },
        'Splunk HEC acknowledgement state unreadable: events HEC accepted before the restart are sent again',
      );
    }
    const file = await SlotFile.open(
      path,
      SLOT_BYTES,
      content.kind === 'ok' ? content.generation : 0,
      stored === undefined && content.kind !== 'missing',
    );
    const state = new AckState(file, stored?.channel ?? newChannel(), logger);
    const recovered = (stored?.pending ?? []).map(([id, deadline, seqs]) => ({ id, deadline, seqs }));
    for (const p of recovered) state.pending.set(p.id, p);
    state.write();
    await file.sync();
    return { state, recovered };
  }

  /** A request HEC accepted with this ackId (or one recovered, still waiting). */
  add(ack: PendingAck): void {
    this.pending.set(ack.id, ack);
    this.schedule();
  }

  /** The request's events are indexed, or are sent again. */
  remove(id: number): void {
    if (this.pending.delete(id)) this.schedule();
  }

  async close(): Promise<void> {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
      this.write();
    }
    await this.syncing;
    await this.file.sync().catch(() => undefined);
    await this.file.close();
  }

  /** Coalesces the changes of one turn of the event loop into one write. */
  private schedule(): void {
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.write();
      this.syncing ??= this.syncInBackground();
    });
  }

  private write(): void {
    const body: Stored = {
      version: 1,
      channel: this.channel,
      pending: [...this.pending.values()].map((p) => [p.id, p.deadline, p.seqs.map(([a, b]) => [a, b])]),
    };
    let payload = Buffer.from(JSON.stringify(body));
    // More pending requests than a slot holds: keep the oldest; the events of the others are sent again.
    while (payload.length > this.file.capacity && body.pending.length > 0) {
      body.pending.length = Math.floor(body.pending.length / 2);
      payload = Buffer.from(JSON.stringify(body));
    }
    try {
      this.file.write(payload);
      if (this.failed) this.logger.info('Splunk HEC acknowledgement state written again');
      this.failed = false;
    } catch (err) {
      if (!this.failed)
        this.logger.error(
          { err },
          'cannot write the Splunk HEC acknowledgement state; a crash would resend more events',
        );
      this.failed = true;
    }
  }

  private async syncInBackground(): Promise<void> {
    try {
      while (this.file.unsynced) await this.file.sync();
    } catch (err) {
      this.logger.warn({ err }, 'cannot fdatasync the Splunk HEC acknowledgement state');
    } finally {
      this.syncing = undefined;
    }
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parse(text: string): Stored | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const s = v as Partial<Stored> | null;
  if (typeof s?.channel !== 'string' || !GUID.test(s.channel) || !Array.isArray(s.pending)) return undefined;
  const ok = s.pending.every(
    (p) =>
      Array.isArray(p) &&
      isCount(p[0]) &&
      isCount(p[1]) &&
      Array.isArray(p[2]) &&
      p[2].every((r) => Array.isArray(r) && isCount(r[0]) && isCount(r[1]) && r[0] < r[1]),
  );
  return ok ? (s as Stored) : undefined;
}
