import type { ExporterFactory } from '../../component.js';
import { checkSplunkHecConfig, splunkHecSchema, type SplunkHecConfig } from './config.js';
import { SplunkHecExporter } from './hec-exporter.js';

export const splunkHecExporterFactory: ExporterFactory<SplunkHecConfig> = {
  type: 'splunk_hec',
  schema: splunkHecSchema,
  validate: checkSplunkHecConfig,
  create: (config, ctx) =>
    new SplunkHecExporter(ctx.id, config, ctx.logger.child({ exporter: ctx.id }), ctx.stateDirectory),
};
