/**
 * Coalesces concurrent submissions into batches handled by one `flush` call at a time:
 * whatever arrives while a flush runs goes into the next one. With a flush that writes and
 * fsyncs, concurrent writers share one fsync (group commit).
 */
export class GroupCommit<T> {
  private pending: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves once everything submitted so far has been flushed (or failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    // Let submissions from the same tick join the first batch.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.flush(batch.map((p) => p.item));
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.running = undefined;
  }
}
