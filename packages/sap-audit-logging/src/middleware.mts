// The ES module entry of the middleware: the same function as `require()` gives.
import auditLogMiddleware from './middleware.js';

export default auditLogMiddleware;
export type { AuditLogRequest, Next } from './types.js';
