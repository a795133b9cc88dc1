/**
 * The otel-audit CLI (`run` and `replay`) with the test-only `http_sink` exporter added. Usage:
 *   node run-sidecar-with-test-exporter.js run --config FILE
 *   node run-sidecar-with-test-exporter.js replay --config FILE [--exporter ID] [--reason RE] [--dry-run]
 *   node run-sidecar-with-test-exporter.js replay --config FILE --list-damaged
 */
import { parseArgs } from 'node:util';
import { defaultRegistry, listDamagedCommand, replayCommand, runCommand } from '@otel-audit/sidecar';
import { httpSinkExporterFactory } from './http-sink-exporter.js';

const base = defaultRegistry();
const exporters = new Map(base.exporters);
exporters.set(httpSinkExporterFactory.type, httpSinkExporterFactory);
const registry = { receivers: base.receivers, exporters };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string' },
    exporter: { type: 'string' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'list-damaged': { type: 'boolean' },
  },
});
const code =
  positionals[0] === 'replay' && values['list-damaged']
    ? await listDamagedCommand(values.config, registry)
    : positionals[0] === 'replay'
      ? await replayCommand(
          values.config,
          { exporter: values.exporter, reason: values.reason, dryRun: values['dry-run'] },
          registry,
        )
      : await runCommand(values.config, registry);
if (code !== 0) process.exitCode = code;
