import type { ReceiverFactory } from '../../component.js';
import { RETRIEVED_EVENT_NAME } from '../../model/spooled-record.js';
import { normalizeUaa } from '../../sap/binding-config.js';
import { checkRetrievalConfig, retrievalSchema, type RetrievalConfig } from './config.js';
import { SapAuditLogRetrievalReceiver } from './receiver.js';

export const sapAuditLogRetrievalReceiverFactory: ReceiverFactory<RetrievalConfig> = {
  type: 'sap_auditlog_retrieval',
  schema: retrievalSchema,
  produces: RETRIEVED_EVENT_NAME,
  normalize: normalizeUaa,
  validate: checkRetrievalConfig,
  create: (config, ctx, consumer) => new SapAuditLogRetrievalReceiver(config, ctx, consumer),
};
