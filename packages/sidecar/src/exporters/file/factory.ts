import type { ExporterFactory } from '../../component.js';
import { fileExporterSchema, type FileExporterConfig } from './config.js';
import { FileExporter } from './file-exporter.js';

export const fileExporterFactory: ExporterFactory<FileExporterConfig> = {
  type: 'file',
  schema: fileExporterSchema,
  create: (config, ctx) => new FileExporter(ctx.id, config, ctx.logger.child({ exporter: ctx.id })),
};
