import type { ExporterFactory } from '../../component.js';
import type { ConfigProblem } from '../../config/problems.js';
import { RETRIEVED_EVENT_NAME } from '../../model/spooled-record.js';
import { sapAuditLogNgSchema, type SapAuditLogNgConfig } from './config.js';
import { RETRIEVED_NG_REASON, SapAuditLogNgExporter } from './ng-exporter.js';

/** `compression` defaults by format: OTLP clients gzip; SAP's JSON clients send plain JSON. */
function normalize(raw: unknown): unknown {
  const config = raw as { format?: unknown; compression?: unknown } | null;
  if (config && typeof config === 'object' && config.compression === undefined) {
    config.compression = config.format === 'otlp' ? 'gzip' : 'none';
  }
  return raw;
}

export const sapAuditLogNgExporterFactory: ExporterFactory<SapAuditLogNgConfig> = {
  type: 'sap_auditlog_ng',
  schema: sapAuditLogNgSchema,
  refuses: { [RETRIEVED_EVENT_NAME]: RETRIEVED_NG_REASON },
  normalize,
  validate(config, path) {
    const problems: ConfigProblem[] = [];
    if (config.binding === 'config' && config.url === undefined) {
      problems.push({ path, message: 'binding: config needs url, region, namespace, cert and key' });
    }
    if (config.url !== undefined) {
      const missing = (['region', 'namespace', 'cert', 'key'] as const).filter((k) => config[k] === undefined);
      if (missing.length > 0) problems.push({ path, message: `give ${missing.join(', ')} with url` });
    }
    if (config.endpoint !== undefined && config.format !== 'otlp') {
      problems.push({ path: `${path}.endpoint`, message: 'endpoint is for format: otlp (format json posts to url)' });
    }
    return problems;
  },
  create: (config, ctx) => new SapAuditLogNgExporter(ctx.id, config, ctx.logger.child({ exporter: ctx.id })),
};
