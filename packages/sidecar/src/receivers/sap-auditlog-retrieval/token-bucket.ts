import { sleep } from './sleep.js';

/**
 * Paces requests to `ratePerSecond`, evenly: no bursts, so that no second (however it is counted)
 * sees more than the rate SAP allows. After a 429 `pause` holds every request back.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private readonly capacity = 1;

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = this.capacity;
    this.last = now();
  }

  /** Resolves when a request may be sent (false if `signal` aborted first). */
  async take(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const now = this.now();
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      const wait = Math.max(
        this.pausedUntil - now,
        this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.ratePerSecond) * 1000,
      );
      if (wait <= 0) {
        this.tokens -= 1;
        return true;
      }
      if (!(await sleep(wait, signal))) return false;
    }
  }

  /** No request for `ms` from now, and none of the saved-up burst after it. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.tokens = 0;
  }
}
