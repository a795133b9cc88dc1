/**
 * Application-side cost of `@otel-audit/sdk` (run as its own process by sap-auditlog.bench):
 * `emit()` (fire and forget through the OTel batch pipeline) and `await log()` (resolves once the
 * sidecar has the record on disk), one by one and 50 at a time. Prints one JSON line.
 */
import { createAuditClient, DataAccessAttribute, DataAccessEvent, SecurityEvent } from '@otel-audit/sdk';
import { numberOption, requiredOption } from './bench-args.js';
import { measureAppSide, measureSync, type AppSideResult } from './app-side.js';

const seconds = numberOption('duration', 5);
const client = createAuditClient({
  endpoint: requiredOption('endpoint'),
  batch: { maxQueueSize: 100_000, maxExportBatchSize: 512 },
});
const security = (i: number) => new SecurityEvent({ data: `${i} unsuccessful login attempts`, ip: '127.0.0.1' });
const read = () =>
  new DataAccessEvent({
    objectType: 'online system',
    objectId: { name: 'Students info system' },
    subjectType: 'student',
    subjectId: { student_id: 'st_123' },
    attributes: [new DataAccessAttribute('date-of-birth', true)],
  });

const emitted = measureSync(20_000, (i) => client.emit(security(i)));
await client.flush();
const results: Record<string, AppSideResult> = {
  'emit(SecurityEvent)': emitted,
  'await log(SecurityEvent), one by one': await measureAppSide(seconds, 1, (i) => client.log(security(i))),
  'log(SecurityEvent), 50 in flight': await measureAppSide(seconds, 50, (i) => client.log(security(i))),
  'await log(DataAccessEvent), one by one': await measureAppSide(seconds, 1, () => client.log(read())),
};
await client.shutdown();
process.stdout.write(`${JSON.stringify(results)}\n`);
