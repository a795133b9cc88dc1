import { after, type TestContext } from 'node:test';

/** Undoes one thing a test started: stops a child process, closes a server or client, removes a directory. */
export type Cleanup = () => unknown;
/** Registers a cleanup. */
export type Defer = (cleanup: Cleanup) => void;

/** Cleanups that take longer fail the test instead of holding up the run. */
const CLEANUP_TIMEOUT_MS = 60_000;

/** Cleanups run last registered first; one that throws does not keep the others from running. */
export class CleanupStack {
  readonly #cleanups: Cleanup[] = [];

  push(cleanup: Cleanup): void {
    this.#cleanups.push(cleanup);
  }

  /** Runs and forgets every cleanup; then throws the error of the one that failed (an AggregateError for several). */
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed`);
  }
}

/**
 * A cleanup stack run when the test ends, whether it passed, failed or timed out: register with
 * the returned `defer` right after starting each thing. With a test context the cleanups run after
 * that test (`t.after`); without, after the enclosing `describe` (call it in the describe body,
 * then `defer` in `before` or in the tests). One stack per test or suite: node:test skips the
 * hooks after one that fails, so checks that belong to the end (`assert.equal(await
 * sidecar.stop(), 0)`) are deferred too, after the cleanup that kills.
 */
export function cleanupAfter(t?: TestContext): Defer {
  const stack = new CleanupStack();
  if (t) t.after(() => stack.run(), { timeout: CLEANUP_TIMEOUT_MS });
  else after(() => stack.run(), { timeout: CLEANUP_TIMEOUT_MS });
  return (cleanup) => stack.push(cleanup);
}
