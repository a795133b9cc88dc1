/** A fault test whose requirement is missing skips on a developer's machine and fails under CI. */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { requirementMissing } from './requirement.js';

function withCi<T>(value: string | undefined, run: () => T): T {
  const before = process.env.CI;
  if (value === undefined) delete process.env.CI;
  else process.env.CI = value;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env.CI;
    else process.env.CI = before;
  }
}

describe('test support: missing requirements', () => {
  it('skips with the reason when CI is not set, fails naming it when it is', () => {
    const skipped: (string | undefined)[] = [];
    const t = { skip: (reason?: string) => void skipped.push(reason) } as unknown as TestContext;
    withCi(undefined, () => requirementMissing(t, 'needs root'));
    assert.deepEqual(skipped, ['needs root']);
    assert.throws(
      () => withCi('true', () => requirementMissing(t, 'needs root')),
      /needs root \(CI is set: this test must run here\)/,
    );
    assert.deepEqual(skipped, ['needs root'], 'no skip under CI');
  });
});
