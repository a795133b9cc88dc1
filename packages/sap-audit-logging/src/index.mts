// The ES module entry: the same instance as `require()` gives, with named exports.
import auditLogging from './index.js';

export const { v2, flush, shutdown } = auditLogging;
export default auditLogging;
export type { AuditLogV2 } from './messages.js';
export type {
  AccessedObject,
  Attachment,
  ConfigurationAttribute,
  Credentials,
  CredentialsOptions,
  DataAccessAttribute,
  DataModificationAttribute,
  DataSubject,
  LogCallback,
  SidecarOptions,
} from './types.js';
