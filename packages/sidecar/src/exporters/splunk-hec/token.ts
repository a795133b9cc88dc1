import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../telemetry/logger.js';

/**
 * The HEC token: from the config, or from `token_file` (e.g. a mounted Kubernetes Secret), which is
 * checked every `reload_interval` and right after HEC refuses the token, so a rotated token is used
 * without a restart. The token itself never reaches a log line or an error message.
 */
export class HecToken {
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  private constructor(
    private value: string,
    private readonly file: string | undefined,
    private readonly onChange: (token: string) => void,
    private readonly logger: Logger,
  ) {}

  /** Reads the token (failing with a message naming the file) and starts watching the file. */
  static async load(
    source: { token?: string | undefined; token_file?: string | undefined },
    reloadIntervalMs: number,
    onChange: (token: string) => void,
    logger: Logger,
  ): Promise<HecToken> {
    if (source.token_file === undefined) return new HecToken(source.token ?? '', undefined, onChange, logger);
    const file = source.token_file;
    const read = await readTokenFile(file);
    const token = new HecToken(read.token, file, onChange, logger);
    token.stamp = read.stamp;
    token.timer = setInterval(() => void token.check(), reloadIntervalMs);
    token.timer.unref();
    return token;
  }

  get current(): string {
    return this.value;
  }

  /** Looks at the file now (HEC refused the token: it may have been rotated); no-op without a file. */
  check(): Promise<void> {
    if (this.file === undefined) return Promise.resolve();
    this.checking ??= this.reload(this.file).finally(() => (this.checking = undefined));
    return this.checking;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async reload(file: string): Promise<void> {
    try {
      const s = await stat(file);
      if (stampOf(s) === this.stamp) return;
      const read = await readTokenFile(file);
      this.stamp = read.stamp;
      if (read.token === this.value) return;
      this.value = read.token;
      this.onChange(read.token);
      this.logger.info({ token_file: file }, 'Splunk HEC token changed; using the new one');
    } catch (err) {
      this.logger.error(
        { token_file: file, err: (err as Error).message },
        'cannot use the changed Splunk HEC token_file; keeping the token loaded before',
      );
    }
  }
}

function stampOf(s: { mtimeMs: number; size: number; ino: number }): string {
  return `${s.mtimeMs}:${s.size}:${s.ino}`;
}

async function readTokenFile(file: string): Promise<{ token: string; stamp: string }> {
  let text: string;
  let stamp: string;
  try {
    stamp = stampOf(await stat(file));
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `splunk_hec token_file ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  const token = text.trim();
  if (token === '') throw new Error(`splunk_hec token_file ${file} is empty`);
  if (/\s/.test(token))
    throw new Error(`splunk_hec token_file ${file} holds more than one word; it must hold only the token`);
  return { token, stamp };
}
