import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { exitOf, stopChild } from '../support/child.js';
import { cleanupAfter } from '../support/cleanup.js';
import { REPO_ROOT } from '../support/paths.js';
import { httpConfig, startSidecar } from '../support/sidecar-process.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/wait.js';

describe('example app', () => {
  it('logs one event of each of the six types through the sidecar', async (t) => {
    const defer = cleanupAfter(t);
    const { dir, cleanup } = await tempDir();
    defer(cleanup);
    const sidecar = await startSidecar({
      dir,
      config: httpConfig({ exporters: '  file:\n    path: ./audit.jsonl', exporterIds: ['file'] }),
    });
    defer(() => sidecar.kill());
    const child = spawn(process.execPath, [join(REPO_ROOT, 'examples/basic-app/dist/src/main.js')], {
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://${sidecar.endpoints['otlp/http']!}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = exitOf(child);
    defer(() => stopChild(child, exited, 'SIGKILL'));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await exited;
    assert.equal(code, 0, out);
    // Acknowledged means in the spool; the file exporter writes the audit file just after.
    const read = async () =>
      (await readFile(join(dir, 'audit.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { category: string });
    await until(async () => (await read()).length >= 6, 10_000, 'six lines in the audit file');
    const lines = await read();
    assert.deepEqual(
      lines.map((l) => l.category),
      [
        'audit.security-events',
        'audit.data-access',
        'audit.data-modification',
        'audit.data-modification',
        'audit.configuration',
        'audit.configuration',
      ],
    );
    await sidecar.stop();
  });
});
