import type { ExporterFactory, ReceiverFactory } from './component.js';
import { fileExporterFactory } from './exporters/file/factory.js';
import { sapAuditLogExporterFactory } from './exporters/sap-auditlog/factory.js';
import { sapAuditLogNgExporterFactory } from './exporters/sap-auditlog-ng/factory.js';
import { splunkHecExporterFactory } from './exporters/splunk-hec/factory.js';
import { otlpReceiverFactory } from './receivers/otlp/factory.js';
import { sapAuditLogRetrievalReceiverFactory } from './receivers/sap-auditlog-retrieval/factory.js';

/** Every component type the sidecar knows, by the `type` used in config ids (`type` or `type/name`). */
export interface ComponentRegistry {
  readonly receivers: ReadonlyMap<string, ReceiverFactory>;
  readonly exporters: ReadonlyMap<string, ExporterFactory>;
}

export function defaultRegistry(): ComponentRegistry {
  return {
    receivers: new Map<string, ReceiverFactory>([
      [otlpReceiverFactory.type, otlpReceiverFactory],
      [sapAuditLogRetrievalReceiverFactory.type, sapAuditLogRetrievalReceiverFactory],
    ]),
    exporters: new Map<string, ExporterFactory>([
      [fileExporterFactory.type, fileExporterFactory],
      [sapAuditLogExporterFactory.type, sapAuditLogExporterFactory],
      [sapAuditLogNgExporterFactory.type, sapAuditLogNgExporterFactory],
      [splunkHecExporterFactory.type, splunkHecExporterFactory],
    ]),
  };
}
