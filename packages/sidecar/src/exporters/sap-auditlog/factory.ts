import type { ExporterFactory } from '../../component.js';
import type { ConfigProblem } from '../../config/problems.js';
import { sapAuditLogSchema, type SapAuditLogConfig } from './config.js';
import { SapAuditLogExporter } from './sap-exporter.js';

const UAA_KEYS = [
  'url',
  'clientid',
  'clientsecret',
  'certurl',
  'certificate',
  'key',
  'credential-type',
  'identityzone',
];

export const sapAuditLogExporterFactory: ExporterFactory<SapAuditLogConfig> = {
  type: 'sap_auditlog',
  schema: sapAuditLogSchema,
  normalize(raw) {
    // `uaa` may come as the JSON text of a binding's uaa object (e.g. `uaa: ${env:AUDITLOG_UAA}`).
    const config = raw as { uaa?: unknown } | null;
    if (config && typeof config.uaa === 'string' && config.uaa.trim().startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(config.uaa) as unknown;
      } catch {
        // left as is: the schema reports that uaa must be an object (without quoting the secret text)
      }
      // A binding's uaa object has more keys (xsappname, uaadomain, verificationkey ...): take ours.
      if (typeof parsed === 'object' && parsed !== null) {
        const all = parsed as Record<string, unknown>;
        config.uaa = Object.fromEntries(UAA_KEYS.filter((k) => all[k] !== undefined).map((k) => [k, all[k]]));
      }
    }
    return raw;
  },
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
