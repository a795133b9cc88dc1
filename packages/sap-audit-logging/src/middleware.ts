/**
 * `require('@sap/audit-logging/middleware')(credentials[, version])`: an Express-style middleware
 * that puts the v2 logger on `req.auditLog`. A plain `(req, res, next)` function; no Express needed.
 */
import { v2 } from './audit-log.js';
import type { AuditLogRequest, Credentials, Next } from './types.js';

/**
 * The handler takes any request object (Express's, or another framework's) and treats it as an
 * {@link AuditLogRequest}.
 */
function auditLogMiddleware<B extends object>(
  credentials: Credentials<B>,
  version: number = 2,
): (req: object, res: unknown, next: Next) => void {
  return (request, _res, next) => {
    const req = request as AuditLogRequest;
    if (!credentials) {
      next(new Error('Missing credentials for audit log service.'));
      return;
    }
    if (isNaN(version)) {
      next(new Error('Provided auditlog version was not a number.'));
      return;
    }
    if (version === 1) {
      next(new Error('@otel-audit/sap-audit-logging implements the v2 API only: use the middleware with version 2'));
      return;
    }
    v2(credentials, req.authInfo, (err, auditLog) => {
      if (err) {
        next(new Error(String(err)));
        return;
      }
      req.auditLog = auditLog;
      next();
    });
  };
}

export = auditLogMiddleware;
