/**
 * LOCK files a crash, a copied volume or another program can leave behind: the sidecar starts on
 * each (at once when the holder is provably gone, after the stale interval with a warning when the
 * LOCK cannot be read), and still refuses a storage directory another sidecar really uses.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupAfter } from '../support/cleanup.js';
import { startSidecar } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';

const CONFIG = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  file:
    path: ./audit.jsonl
extensions:
  storage:
    directory: ./storage
    lock:
      heartbeat_interval: 200ms
      stale_after: 1s
service:
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`;

const pidNamespace = async () => {
  const { readlink } = await import('node:fs/promises');
  return readlink('/proc/self/ns/pid').catch(() => '');
};

describe('fault: LOCK files left behind', () => {
  const cases: { name: string; content: () => Promise<string>; warn: RegExp }[] = [
    { name: 'empty (a crash while it was written)', content: async () => '', warn: /took over the storage lock/ },
    { name: 'NUL bytes (a torn write)', content: async () => '\0'.repeat(128), warn: /took over the storage lock/ },
    { name: 'garbage', content: async () => 'b\ngarbage\u00ff', warn: /took over the storage lock/ },
    {
      name: 'pid 1 on this host (a copied volume)',
      content: async () => `1\n${hostname()}\n${await pidNamespace()}\n1\n`,
      warn: /took over the storage lock of a process that is gone/,
    },
  ];
  for (const c of cases) {
    it(`starts on a LOCK that is ${c.name}`, { timeout: 60_000 }, async (t) => {
      const defer = cleanupAfter(t);
      const { dir, cleanup } = await tempDir();
      defer(cleanup);
      await mkdir(join(dir, 'storage'));
      await writeFile(join(dir, 'storage/LOCK'), await c.content());
      const started = Date.now();
      const sidecar = await startSidecar({ dir, config: CONFIG });
      defer(() => sidecar.kill());
      const took = Date.now() - started;
      assert.match(sidecar.output.join('\n'), c.warn);
      assert.equal((await readFile(join(dir, 'storage/LOCK'), 'utf8')).split('\n')[0], String(sidecar.child.pid));
      t.diagnostic(`started after ${took} ms`);
      assert.equal(await sidecar.stop(), 0);
    });
  }

  it('refuses a storage directory a running sidecar uses', { timeout: 60_000 }, async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const first = await startSidecar({ dir, config: CONFIG });
    defer(() => first.kill());
    await mkdir(join(dir, 'second'));
    const second = startSidecar({ dir: join(dir, 'second'), config: CONFIG.replace('./storage', '../storage') });
    await assert.rejects(second, /is in use by process \d+/);
    assert.equal(await first.stop(), 0);
  });
});
