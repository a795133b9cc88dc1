/**
 * `@otel-audit/sap-audit-logging`: the API of `@sap/audit-logging` v2, sending through the
 * otel-audit sidecar. CommonJS, like the package it replaces: `require()` and `import` both work.
 */
import { flush, shutdown, v2 } from './audit-log.js';

/** The v1 entry point (`require('@sap/audit-logging')(credentials)`), which the drop-in does not provide. */
function auditLogging(..._args: unknown[]): never {
  throw new Error(
    '@otel-audit/sap-audit-logging implements the v2 API only: use `await require(...).v2(credentials)` ' +
      '(see docs/migrating-from-sap-audit-logging.md)',
  );
}

export = Object.assign(auditLogging, { v2, flush, shutdown });
