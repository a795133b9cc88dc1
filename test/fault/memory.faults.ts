/**
 * Memory bombs under a real memory limit (`npm run test:faults`, not part of `npm test`: it takes a
 * few minutes). Each request kind of issue 16 goes to a fresh sidecar in a memory cgroup of
 * 256 MiB, the chart's sidecar limit, while a valid sender goes on: the sidecar must survive (no
 * OOM kill, no heap abort), answer every request with a status a client can act on, serve the
 * valid sender, and deliver every record it acknowledged. Needs root and cgroup v1's memory
 * controller (test/support/memory-cgroup.ts); elsewhere the tests are skipped, saying why (under CI
 * they fail instead: test/support/requirement.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { cleanupAfter } from '../support/cleanup.js';
import { createMemoryCgroup, memoryCgroupUnavailable } from '../support/memory-cgroup.js';
import { requirementMissing } from '../support/requirement.js';
import { tempDir } from '../support/tmp.js';
import { runScenario, SCENARIOS, startInCgroup, writtenUuids } from './memory-scenarios.js';

const MiB = 1024 * 1024;
const LIMIT = 256 * MiB;

/** What a client can act on: success, a request too large (413), retry later (429, RESOURCE_EXHAUSTED...). */
const CLEAN = new Set(['200', '400', '413', '429', 'OK', 'RESOURCE_EXHAUSTED', 'INVALID_ARGUMENT']);

const unavailable = await memoryCgroupUnavailable();

describe(`fault: memory bombs under a ${LIMIT / MiB} MiB memory cgroup`, () => {
  for (const name of SCENARIOS) {
    it(name, { timeout: 240_000 }, async (t) => {
      if (unavailable !== undefined) {
        requirementMissing(t, unavailable);
        return;
      }
      const defer = cleanupAfter(t);
      const { dir, cleanup } = await tempDir();
      defer(cleanup);
      const cgroup = await createMemoryCgroup('otel-audit-fault', LIMIT);
      defer(() => cgroup.remove());
      const sidecar = await startInCgroup(dir, cgroup);
      defer(() => sidecar.kill());
      const budgetLine = sidecar.output.find((l) => l.includes('"intake memory budget"'));
      assert.match(budgetLine ?? '', /cgroup memory limit of 256 MiB/, 'the budget is derived from the cgroup');

      const o = await runScenario(name, sidecar, cgroup);
      t.diagnostic(
        `${name}: ${o.answers.map((a) => a.status).join(' ')}; peak RSS ${o.peakRssMiB?.toFixed(0) ?? '-'} MiB; valid ${o.validSent - o.validFailures.length}/${o.validSent}`,
      );
      assert.equal(o.died, undefined, `the sidecar died (${o.died}):\n${sidecar.output.slice(-10).join('\n')}`);
      assert.equal(o.oomKills, 0);
      assert.ok(o.answers.length > 0);
      for (const a of o.answers) assert.ok(CLEAN.has(a.status), `answered ${a.status}: ${a.body ?? ''}`);
      assert.deepEqual(o.validFailures, [], 'every valid request was served');
      assert.ok(o.validSent > 0);

      // Nothing acknowledged is lost, and the sidecar still takes requests afterwards.
      const deadline = Date.now() + 60_000;
      let written = await writtenUuids(dir);
      while (o.acknowledged.some((u) => !written.has(u)) && Date.now() < deadline) {
        await delay(200);
        written = await writtenUuids(dir);
      }
      assert.deepEqual(
        o.acknowledged.filter((u) => !written.has(u)),
        [],
        'acknowledged records missing from the audit file',
      );
      assert.equal(await sidecar.stop(), 0);
    });
  }
});
