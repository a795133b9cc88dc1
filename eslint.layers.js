// The dependency rule: which part of the code may import which. Data flows one way
// (receivers → pipeline → spool → delivery → exporters) over a shared data model; the assembly
// (service, components, open-storage, cli, index) wires the parts together and may use them all.
// `npm run lint` enforces it, and test/lint/layers.test.ts proves that a forbidden import fails.
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

const SIDECAR = 'packages/sidecar/src';

/** Each part of the sidecar and the parts it may import (besides itself and other packages). */
export const SIDECAR_LAYERS = {
  model: [],
  util: [],
  storage: [],
  telemetry: ['util'],
  config: ['util', 'telemetry'],
  http: ['config', 'util'],
  sap: ['config', 'http', 'util', 'telemetry', 'model'],
  'component.ts': ['model', 'config', 'telemetry'],
  otlp: ['model', 'util'],
  pipeline: ['model', 'otlp'],
  spool: ['model', 'storage', 'telemetry', 'util'],
  deadletter: ['model', 'storage'],
  delivery: ['component.ts', 'model', 'spool', 'config', 'telemetry', 'util'],
  receivers: ['component.ts', 'model', 'otlp', 'config', 'http', 'sap', 'storage', 'telemetry', 'util'],
  exporters: [
    'component.ts',
    'model',
    'config',
    'delivery/config.ts',
    'otlp/proto-writer.ts',
    'http',
    'sap',
    'storage',
    'telemetry',
    'util',
  ],
  replay: ['component.ts', 'model', 'config', 'deadletter', 'otlp', 'pipeline', 'telemetry', 'util'],
};

/** Packages: semconv is the base; the SDK and the @sap/audit-logging drop-in build on it; nothing imports the sidecar. */
const PACKAGE_ZONES = [
  {
    target: './packages/semconv/src',
    from: ['./packages/sdk/src', './packages/sidecar/src'],
    message: 'semconv is the base package: it must not depend on the SDK or the sidecar.',
  },
  {
    target: './packages/sdk/src',
    from: './packages/sidecar/src',
    message: 'the SDK must not depend on the sidecar (they share only @otel-audit/semconv).',
  },
  {
    target: './packages/sap-audit-logging/src',
    from: ['./packages/sidecar/src', './packages/trail/src'],
    message:
      'the @sap/audit-logging drop-in talks to the sidecar over OTLP through the SDK: it must not import the sidecar.',
  },
  {
    target: './packages/trail/src',
    from: ['./packages/sidecar/src', './packages/sdk/src'],
    message: 'the trail tools read the file format only; the sidecar loads them, not the other way round.',
  },
];

function sidecarZones() {
  return Object.entries(SIDECAR_LAYERS).map(([layer, allowed]) => ({
    target: `./${SIDECAR}/${layer}`,
    from: `./${SIDECAR}`,
    except: [`./${layer}`, ...allowed.map((a) => `./${a}`)],
    message:
      `${layer} may import only ${allowed.length === 0 ? 'itself' : allowed.join(', ')} in the sidecar ` +
      '(see eslint.layers.js): data flows one way, over the model layer.',
  }));
}

export const layersConfig = {
  files: ['packages/*/src/**/*.ts'],
  languageOptions: { parser: tseslint.parser },
  plugins: { 'import-x': importX },
  settings: {
    'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['packages/*/tsconfig.json'] })],
  },
  rules: {
    'import-x/no-restricted-paths': ['error', { zones: [...PACKAGE_ZONES, ...sidecarZones()] }],
    // An import the resolver cannot follow would slip past the rule above.
    'import-x/no-unresolved': 'error',
  },
};
