import type { ExporterFactory } from '../../component.js';
import { RETRIEVED_EVENT_NAME } from '../../model/spooled-record.js';
import type { ConfigProblem } from '../../config/problems.js';
import { normalizeUaa } from '../../sap/binding-config.js';
import { sapAuditLogSchema, type SapAuditLogConfig } from './config.js';
import { RETRIEVED_REASON, SapAuditLogExporter } from './sap-exporter.js';

export const sapAuditLogExporterFactory: ExporterFactory<SapAuditLogConfig> = {
  type: 'sap_auditlog',
  schema: sapAuditLogSchema,
  refuses: { [RETRIEVED_EVENT_NAME]: RETRIEVED_REASON },
  normalize: normalizeUaa,
  validate(config, path) {
    const problems: ConfigProblem[] = [];
    if (config.binding === 'config' && config.url === undefined) {
      problems.push({ path, message: 'binding: config needs url (and uaa, or user and password)' });
    }
    if (
      config.url !== undefined &&
      config.uaa === undefined &&
      (config.user === undefined || config.password === undefined)
    ) {
      problems.push({
        path,
        message: 'give uaa (OAuth2: premium or oauth2 plan) or user and password (standard plan) with url',
      });
    }
    return problems;
  },
  create: (config, ctx) => new SapAuditLogExporter(ctx.id, config, ctx.logger.child({ exporter: ctx.id })),
};
