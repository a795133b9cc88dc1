/**
 * Application-side cost of `@sap/audit-logging` v2 (run as its own process by sap-auditlog.bench):
 * how many events per second an application gets logged, and the CPU it spends per event, for
 * `securityMessage(...).log()` and `read(...).log()`, awaited one by one and 50 at a time.
 * Prints one JSON line. Needs NODE_EXTRA_CA_CERTS (the test CA) and the DNS shim preloaded.
 */
import { createRequire } from 'node:module';
import { requiredOption, numberOption } from './bench-args.js';
import type { AppSideResult } from './app-side.js';
import { measureAppSide } from './app-side.js';
import { auditedCalls, type AuditLogV2 } from './sap-audit-logging-calls.js';

interface AuditLogging {
  v2(credentials: object): Promise<AuditLogV2>;
}

const require = createRequire(import.meta.url);
const auditLogging = require('@sap/audit-logging') as AuditLogging;

const seconds = numberOption('duration', 5);
const log = await auditLogging.v2({
  url: requiredOption('api'),
  uaa: {
    url: requiredOption('uaa'),
    clientid: requiredOption('client-id'),
    clientsecret: requiredOption('client-secret'),
  },
});
const { security, read } = auditedCalls(log);

const results: Record<string, AppSideResult> = {
  'securityMessage().log(), awaited one by one': await measureAppSide(seconds, 1, security),
  'securityMessage().log(), 50 in flight': await measureAppSide(seconds, 50, security),
  'read().log(), awaited one by one': await measureAppSide(seconds, 1, read),
  'read().log(), 50 in flight': await measureAppSide(seconds, 50, read),
};
process.stdout.write(`${JSON.stringify(results)}\n`);
