import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { REPO_ROOT } from '../support/paths.js';

/*
 * The dependency rule of eslint.layers.js (run by `npm run lint`) must refuse an import that points
 * the wrong way, and accept the ones the layering allows. The files linted here are virtual: they
 * are given a path inside the tree, so the rule judges them as if they were there.
 */

interface LayersModule {
  readonly layersConfig: Linter.Config;
  readonly SIDECAR_LAYERS: Readonly<Record<string, readonly string[]>>;
}

async function lint(path: string, code: string): Promise<string[]> {
  const { layersConfig } = (await import(pathToFileURL(join(REPO_ROOT, 'eslint.layers.js')).href)) as LayersModule;
  const eslint = new ESLint({ cwd: REPO_ROOT, overrideConfigFile: true, overrideConfig: [layersConfig] });
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, path) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('layer dependency rule', { timeout: 60_000 }, () => {
  it('refuses imports upstream or sideways', async () => {
    const cases: [string, string][] = [
      ['packages/sidecar/src/model/x.ts', "import { Spool } from '../spool/spool.js';"],
      ['packages/sidecar/src/spool/x.ts', "import { AuditPipeline } from '../pipeline/pipeline.js';"],
      ['packages/sidecar/src/spool/x.ts', "import { ExporterQueue } from '../delivery/exporter-queue.js';"],
      ['packages/sidecar/src/pipeline/x.ts', "import { DeadLetterStore } from '../deadletter/dead-letter-store.js';"],
      ['packages/sidecar/src/receivers/otlp/x.ts', "import { AuditPipeline } from '../../pipeline/pipeline.js';"],
      ['packages/sidecar/src/exporters/file/x.ts', "import { Spool } from '../../spool/spool.js';"],
      ['packages/sidecar/src/exporters/file/x.ts', "import { ExporterQueue } from '../../delivery/exporter-queue.js';"],
      ['packages/sidecar/src/component.ts', "import { Spool } from './spool/spool.js';"],
      ['packages/sidecar/src/config/x.ts', "import { defaultRegistry } from '../components.js';"],
      ['packages/semconv/src/x.ts', "import { createAuditClient } from '../../sdk/src/client.js';"],
      ['packages/sdk/src/x.ts', "import { Service } from '../../sidecar/src/service.js';"],
      ['packages/sap-audit-logging/src/x.ts', "import { Service } from '../../sidecar/src/service.js';"],
    ];
    for (const [path, code] of cases) {
      const messages = await lint(path, `${code}\nexport const used = [typeof 0];\n`);
      assert.ok(
        messages.some((m) => m.startsWith('import-x/no-restricted-paths:')),
        `${path}: ${code} was not refused (${messages.join('; ') || 'no messages'})`,
      );
    }
  });

  it('accepts the imports the layering allows', async () => {
    const cases: [string, string][] = [
      ['packages/sidecar/src/spool/x.ts', "import type { SpoolInput } from '../model/spooled-record.js';"],
      ['packages/sidecar/src/receivers/otlp/x.ts', "import type { LogsConsumer } from '../../model/consume.js';"],
      ['packages/sidecar/src/exporters/file/x.ts', "import type { Exporter } from '../../component.js';"],
      ['packages/sidecar/src/exporters/file/x.ts', "import { deliverySchema } from '../../delivery/config.js';"],
      ['packages/sidecar/src/replay/x.ts', "import { AuditPipeline } from '../pipeline/pipeline.js';"],
      ['packages/sidecar/src/service.ts', "import { Spool } from './spool/spool.js';"],
      ['packages/sap-audit-logging/src/x.ts', "import type { AuditClient } from '@otel-audit/sdk';"],
    ];
    for (const [path, code] of cases) {
      assert.deepEqual(await lint(path, `${code}\n`), [], `${path}: ${code}`);
    }
  });

  it('refuses an import it cannot resolve (which would slip past the rule)', async () => {
    const messages = await lint('packages/sidecar/src/model/x.ts', "import { x } from '../spool/no-such-file.js';\n");
    assert.ok(
      messages.some((m) => m.startsWith('import-x/no-unresolved:')),
      messages.join('; '),
    );
  });

  it('names every folder of the sidecar', async () => {
    const { SIDECAR_LAYERS } = (await import(pathToFileURL(join(REPO_ROOT, 'eslint.layers.js')).href)) as LayersModule;
    const { readdir } = await import('node:fs/promises');
    const entries = await readdir(join(REPO_ROOT, 'packages/sidecar/src'), { withFileTypes: true });
    const assembly = ['cli', 'service.ts', 'components.ts', 'open-storage.ts', 'index.ts'];
    const unnamed = entries
      .map((e) => e.name)
      .filter((n) => !n.endsWith('.d.ts') && !assembly.includes(n) && !(n in SIDECAR_LAYERS));
    assert.deepEqual(unnamed, [], 'a new folder needs its place in SIDECAR_LAYERS (or in the assembly)');
  });
});
