// Preloaded (`--import`) into the test processes by run-tests.mjs on Node versions whose
// `--test-timeout` limits each test file as a whole instead of each test (Node 20 and 22, see
// nodejs/node#57672): gives every it()/test() without a timeout of its own the default one,
// as `--test-timeout` does on Node 24. A cost: on those versions the reports give this file as
// each test's location (node:test takes it from the caller of it()); names and stacks are intact.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const timeout = Number(process.env.OTEL_AUDIT_TEST_TIMEOUT_MS);
const nodeTest = createRequire(import.meta.url)('node:test');

function withDefaultTimeout(run) {
  const wrapped = (name, options, fn) => {
    // node:test takes (name, options, fn), (name, fn), (options, fn) and (fn).
    if (typeof name === 'function') [name, options, fn] = [undefined, undefined, name];
    else if (typeof name === 'object' && name !== null) [name, options, fn] = [undefined, name, options];
    else if (typeof options === 'function') [options, fn] = [undefined, options];
    const given = typeof options === 'object' && options !== null ? options : {};
    return run(name, given.timeout === undefined ? { ...given, timeout } : given, fn);
  };
  return Object.assign(wrapped, run);
}

if (Number.isFinite(timeout) && timeout > 0) {
  for (const name of ['it', 'test']) {
    const run = nodeTest[name];
    nodeTest[name] = withDefaultTimeout(run);
    nodeTest[name].only = withDefaultTimeout(run.only);
  }
  // `import { it } from 'node:test'` sees the wrapped functions.
  syncBuiltinESMExports();
}
