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

interface Message {
  by(user: string): Message;
  tenant(t: string): Message;
  externalIP(ip: string): Message;
  attribute(a: object): Message;
  dataSubject(s: object): Message;
  log(): Promise<unknown>;
}
interface AuditLogV2 {
  securityMessage(fmt: string, ...args: unknown[]): Message;
  read(object: object): Message;
}
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
const security = (i: number) =>
  log
    .securityMessage('%d unsuccessful login attempts', i)
    .externalIP('127.0.0.1')
    .by('$USER')
    .tenant('$PROVIDER')
    .log();
const read = () =>
  log
    .read({ type: 'online system', id: { name: 'Students info system' } })
    .attribute({ name: 'date-of-birth', successful: true })
    .dataSubject({ type: 'student', id: { student_id: 'st_123' } })
    .by('$USER')
    .tenant('$PROVIDER')
    .log();

const results: Record<string, AppSideResult> = {
  'securityMessage().log(), awaited one by one': await measureAppSide(seconds, 1, security),
  'securityMessage().log(), 50 in flight': await measureAppSide(seconds, 50, security),
  'read().log(), awaited one by one': await measureAppSide(seconds, 1, read),
  'read().log(), 50 in flight': await measureAppSide(seconds, 50, read),
};
process.stdout.write(`${JSON.stringify(results)}\n`);
