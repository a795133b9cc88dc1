/**
 * Logs something that can happen thousands of times a second (e.g. per request of a misbehaving
 * sender) at most once per interval: the first time at once, then with the count since the last line.
 */
export class RateLimitedLog {
  private pending = 0;
  private last = -Infinity;

  constructor(private readonly intervalMs: number) {}

  /** Counts `n` events; calls `log` with the count since the last line when one is due. */
  add(n: number, log: (count: number) => void): void {
    this.pending += n;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    const count = this.pending;
    this.pending = 0;
    log(count);
  }
}
