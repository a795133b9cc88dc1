import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../telemetry/logger.js';
import type { ReplayFilter, ReplayResult } from './replay.js';

/**
 * How `otel-audit replay` asks a running sidecar to replay: it drops a request file into
 * `<storage>/replay/` and waits for the result file. Only the sidecar touches its spool and
 * dead-letter files, so nothing races; no network endpoint is involved.
 */
const DIR = 'replay';

async function writeAtomically(path: string, body: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

type Outcome = { ok: true; result: ReplayResult } | { ok: false; error: string };

/** CLI side: asks the running sidecar and waits for its answer. */
export async function requestReplay(
  storageDirectory: string,
  filter: ReplayFilter,
  timeoutMs: number,
): Promise<ReplayResult> {
  const dir = join(storageDirectory, DIR);
  await mkdir(dir, { recursive: true });
  const id = randomUUID();
  await writeAtomically(join(dir, `${id}.request.json`), JSON.stringify(filter));
  const resultPath = join(dir, `${id}.result.json`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const outcome = JSON.parse(await readFile(resultPath, 'utf8')) as Outcome;
      await unlink(resultPath).catch(() => undefined);
      if (!outcome.ok) throw new Error(`the sidecar could not replay: ${outcome.error}`);
      return outcome.result;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await unlink(join(dir, `${id}.request.json`)).catch(() => undefined);
  throw new Error(`the running sidecar did not answer the replay request within ${timeoutMs} ms`);
}

/** Sidecar side: picks up replay requests and answers them. */
export class ReplayRequestWatcher {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly storageDirectory: string,
    private readonly replay: (filter: ReplayFilter) => Promise<ReplayResult>,
    private readonly logger: Logger,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.busy
        .then(() => this.poll())
        .catch((err: unknown) => this.logger.error({ err }, 'replay request failed'));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
  }

  private async poll(): Promise<void> {
    const dir = join(this.storageDirectory, DIR);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.request.json'));
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      let outcome: Outcome;
      try {
        const filter = JSON.parse(await readFile(path, 'utf8')) as ReplayFilter;
        this.logger.info({ filter }, 'replaying dead letters');
        outcome = { ok: true, result: await this.replay(filter) };
        this.logger.info({ result: outcome.result }, 'replay done');
      } catch (err) {
        outcome = { ok: false, error: (err as Error).message };
      }
      await writeAtomically(path.replace(/\.request\.json$/, '.result.json'), JSON.stringify(outcome));
      await unlink(path).catch(() => undefined);
    }
  }
}
