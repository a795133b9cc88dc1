import { BackpressureError, PermanentError } from './errors.js';

/** How long a sender refused for want of memory is asked to wait before it retries. */
const MEMORY_RETRY_MS = 1000;

/**
 * The request needs more memory than the whole intake budget: it can never be taken, so the
 * sender must not retry it as it is (413 / RESOURCE_EXHAUSTED without a retry delay).
 */
export class MemoryBudgetTooSmallError extends PermanentError {
  override name = 'MemoryBudgetTooSmallError';
}

/** The budget is in use by other requests now: this one may pass later (429 / RESOURCE_EXHAUSTED with RetryInfo). */
export class MemoryBusyError extends BackpressureError {}

/**
 * The memory every receiver together may hold for requests in flight: their bodies as received
 * and decompressed, and what decoding, validating and storing them is estimated to allocate. A
 * request takes its share before it allocates it and gives it back when it is answered; what does
 * not fit now is refused with a retry delay (429 / RESOURCE_EXHAUSTED with RetryInfo), what could
 * never fit is refused for good. One instance per process: every receiver shares it.
 */
export class MemoryBudget {
  private used = 0;
  private peak = 0;
  /** Requests refused because the budget was in use (they may pass later). */
  refusedBusy = 0;
  /** Requests refused because they alone would exceed the budget. */
  refusedTooLarge = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes held by the requests in flight. */
  inUse(): number {
    return this.used;
  }

  /** The most ever held at once. */
  peakInUse(): number {
    return this.peak;
  }

  /** Bytes a request could still take now. */
  available(): number {
    return Math.max(0, this.limitBytes - this.used);
  }

  /** A lease for one request; give it back with `release()` when the request is answered. */
  lease(): MemoryLease {
    return new MemoryLease(this);
  }

  /** @internal */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

/** What one request holds of the {@link MemoryBudget}. */
export class MemoryLease {
  private held = 0;

  constructor(private readonly budget: MemoryBudget) {}

  /** Bytes this request holds. */
  bytes(): number {
    return this.held;
  }

  /** What this request could hold at most right now: what it holds and what is free. */
  room(): number {
    return this.held + this.budget.available();
  }

  /**
   * Takes `bytes` more for `what` (named in the refusal), or throws: {@link MemoryBudgetTooSmallError}
   * when the request would need more than the whole budget, else a {@link BackpressureError}.
   */
  take(bytes: number, what: string): void {
    if (bytes <= 0 || this.budget.tryTake(bytes)) {
      this.held += Math.max(0, bytes);
      return;
    }
    throw this.refusal(this.held + bytes, what);
  }

  /** Takes `bytes` more if they are free now; false, taking nothing, if not. */
  tryTake(bytes: number): boolean {
    if (bytes > 0 && !this.budget.tryTake(bytes)) return false;
    this.held += Math.max(0, bytes);
    return true;
  }

  /** Gives back what the request holds beyond `bytes` (e.g. once the real size is known). */
  shrinkTo(bytes: number): void {
    if (bytes >= this.held) return;
    this.budget.give(this.held - bytes);
    this.held = bytes;
  }

  release(): void {
    this.shrinkTo(0);
  }

  /**
   * The error for a request that needs `needed` bytes in all (`atLeast`: that much and more, when
   * the estimate stopped short); counts it.
   */
  refusal(needed: number, what: string, atLeast = false): Error {
    const limit = this.budget.limitBytes;
    if (needed > limit) {
      this.budget.refusedTooLarge++;
      const need = atLeast ? 'more memory than' : `about ${mib(needed)} of memory, more than`;
      return new MemoryBudgetTooSmallError(
        `${what} needs ${need} the intake memory budget of ${mib(limit)}; send smaller requests`,
      );
    }
    this.budget.refusedBusy++;
    return new MemoryBusyError(
      `the intake memory budget is in use (${mib(limit - this.budget.available())} of ${mib(limit)} held by requests in flight); retry later`,
      MEMORY_RETRY_MS,
    );
  }
}

/** Steps in which a {@link LeaseMeter} takes from its lease (one budget operation per step, not per record). */
const METER_STEP_BYTES = 64 * 1024;

/**
 * A decoding's estimate, taken from the request's lease as it grows: requests decoded at the same
 * time (in slices, in turn) cannot each count on the same free memory.
 */
export class LeaseMeter {
  charged = 0;
  private taken = 0;

  constructor(
    private readonly lease: MemoryLease,
    private readonly what: string,
  ) {}

  charge(bytes: number): void {
    this.charged += bytes;
    if (this.charged <= this.taken) return;
    const step = Math.max(METER_STEP_BYTES, this.charged - this.taken);
    if (!this.lease.tryTake(step)) throw this.lease.refusal(this.lease.bytes() + step, this.what, true);
    this.taken += step;
  }

  rewind(charged: number): void {
    this.charged = charged;
  }
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
