import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/**
 * For a test that needs what this machine does not give it (root for a tmpfs, a UTS namespace, a
 * memory cgroup): skipped with `reason` on a developer's machine, failed under CI (`CI` set), where
 * `.ci/run` runs as root — there a skip would let a data-loss test pass unnoticed.
 */
export function requirementMissing(t: TestContext, reason: string): void {
  if (process.env.CI) assert.fail(`${reason} (CI is set: this test must run here)`);
  t.skip(reason);
}
