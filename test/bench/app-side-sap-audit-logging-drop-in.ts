/**
 * Application-side cost of `@otel-audit/sap-audit-logging` (run as its own process by
 * sap-auditlog.bench): the calls of app-side-sap-audit-logging.ts, unchanged, with the drop-in in
 * place of `@sap/audit-logging` and the sidecar next to it (OTEL_EXPORTER_OTLP_ENDPOINT). Each
 * `log()` resolves once the sidecar has the record on disk. Prints one JSON line.
 */
import sapAuditLogging from '@otel-audit/sap-audit-logging';
import { numberOption, stringOption } from './bench-args.js';
import type { AppSideResult } from './app-side.js';
import { measureAppSide } from './app-side.js';
import { auditedCalls, type AuditLogV2 } from './sap-audit-logging-calls.js';

const seconds = numberOption('duration', 5);
// The binding the original needed is ignored for sending: the sidecar holds it.
const log = await sapAuditLogging.v2({ url: 'https://api.auditlog.example', uaa: {} });
const { security, read } = auditedCalls(log as unknown as AuditLogV2);

const cases: Record<string, () => Promise<AppSideResult>> = {
  'securityMessage().log(), awaited one by one': () => measureAppSide(seconds, 1, security),
  'securityMessage().log(), 50 in flight': () => measureAppSide(seconds, 50, security),
  'read().log(), awaited one by one': () => measureAppSide(seconds, 1, read),
  'read().log(), 50 in flight': () => measureAppSide(seconds, 50, read),
};
// `--case=NAME` runs only that case (the benchmark reads the sidecar's metrics around it).
const only = stringOption('case');
const results: Record<string, AppSideResult> = {};
for (const [name, run] of Object.entries(cases)) if (only === undefined || name === only) results[name] = await run();
await sapAuditLogging.shutdown();
process.stdout.write(`${JSON.stringify(results)}\n`);
