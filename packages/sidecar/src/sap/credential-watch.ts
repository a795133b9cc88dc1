import type { Logger } from '../telemetry/logger.js';
import { CredentialsError, directoryFingerprint } from './credentials.js';

/** Credentials of any SAP service binding, as far as watching them goes. */
export interface WatchedCredentials {
  /** Where they were found, for messages (never the values). */
  readonly source: string;
  /** For mounted bindings: the directory to watch for rotation. */
  readonly watchDirectory: string | undefined;
}

/**
 * Keeps a component's credentials current: finds them at start (without them the component still
 * starts and says why, and records wait in the spool), looks again every `intervalMs` until they
 * appear, and switches to rotated credentials when a mounted binding's files change.
 */
export class CredentialWatch<T extends WatchedCredentials> {
  private current: T | undefined;
  private missingReason: string | undefined;
  private fingerprint: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;

  constructor(
    private readonly options: {
      readonly title: string;
      readonly resolve: () => Promise<T>;
      /** Called with the first credentials and with every rotation (`previous` is then the old ones). */
      readonly onChange: (next: T, previous: T | undefined) => void;
      readonly intervalMs: number;
      readonly logger: Logger;
    },
  ) {}

  get credentials(): T | undefined {
    return this.current;
  }

  /** Why there are no credentials yet, while there are none. */
  get missing(): string | undefined {
    return this.missingReason;
  }

  async start(): Promise<void> {
    await this.find();
    this.timer = setInterval(
      () => void (this.current === undefined ? this.find() : this.reloadIfChanged()),
      this.options.intervalMs,
    );
    this.timer.unref();
  }

  private async find(): Promise<void> {
    let found: T;
    try {
      found = await this.options.resolve();
    } catch (err) {
      if (!(err instanceof CredentialsError)) throw err;
      if (err.message !== this.missingReason)
        this.options.logger.error(
          { reason: err.message },
          `${this.options.title} exporter has no credentials; records wait in the spool`,
        );
      this.missingReason = err.message;
      return;
    }
    this.missingReason = undefined;
    if (found.watchDirectory !== undefined) this.fingerprint = await directoryFingerprint(found.watchDirectory);
    this.current = found;
    this.options.onChange(found, undefined);
  }

  /** A mounted binding changed (rotated certificate or secret): switch to the new credentials. */
  reloadIfChanged(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const dir = this.current?.watchDirectory;
        if (dir === undefined) return;
        const fingerprint = await directoryFingerprint(dir);
        if (fingerprint === this.fingerprint) return;
        const next = await this.options.resolve();
        const previous = this.current;
        this.current = next;
        this.fingerprint = fingerprint;
        this.options.logger.info(
          { source: next.source },
          `${this.options.title} credentials changed; using the new ones`,
        );
        this.options.onChange(next, previous);
      } catch (err) {
        this.options.logger.error(
          { err: (err as Error).message },
          `could not reload the ${this.options.title} credentials; keeping the old ones`,
        );
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reloading;
  }
}
