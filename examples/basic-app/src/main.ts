/**
 * Emits one audit event of each of the six types to a running otel-audit sidecar
 * (by default http://127.0.0.1:4318; set OTEL_EXPORTER_OTLP_ENDPOINT to change it).
 *
 *   npm start            # in one terminal: the sidecar
 *   npm run example      # in another: this app
 */
import {
  ChangeAttribute,
  ConfigurationChangeEvent,
  ConfigurationDeletionEvent,
  createAuditClient,
  DataAccessAttribute,
  DataAccessEvent,
  DataDeletionEvent,
  DataModificationEvent,
  DeletedAttribute,
  SecurityEvent,
  SecurityEventAttribute,
  type AuditEvent,
} from '@otel-audit/sdk';

const client = createAuditClient({ resource: { 'service.name': 'example-billing-app' } });

const customer = { objectType: 'customer record', objectId: { customerId: '4711' } };
const person = { subjectType: 'customer', subjectId: { customerId: '4711' } };

const events: AuditEvent[] = [
  new SecurityEvent({
    data: 'user jane.doe logged in',
    user: 'jane.doe',
    ip: '203.0.113.7',
    attributes: [new SecurityEventAttribute('login.method', 'password+totp')],
    success: true,
  }),
  new DataAccessEvent({
    ...customer,
    ...person,
    user: 'jane.doe',
    channel: 'UI',
    attributes: [new DataAccessAttribute('iban', true), new DataAccessAttribute('date-of-birth', true)],
  }),
  new DataModificationEvent({
    ...customer,
    ...person,
    user: 'jane.doe',
    attributes: [new ChangeAttribute('email', 'new@example.com', 'old@example.com')],
    success: true,
  }),
  new DataDeletionEvent({
    ...customer,
    ...person,
    user: 'jane.doe',
    attributes: [new DeletedAttribute('phone', '+49 30 1234567')],
    success: true,
  }),
  new ConfigurationChangeEvent({
    objectType: 'tenant settings',
    objectId: { setting: 'session' },
    user: 'admin',
    attributes: [new ChangeAttribute('timeout minutes', '30', '15')],
    success: true,
  }),
  new ConfigurationDeletionEvent({
    objectType: 'tenant settings',
    objectId: { setting: 'legacy-sso' },
    user: 'admin',
    attributes: [new DeletedAttribute('sso url', 'https://sso.example.com')],
    success: true,
  }),
];

let failed = 0;
for (const event of events) {
  try {
    // Resolves only when the sidecar has durably stored the record.
    await client.log(event);
    console.log(`logged ${event.eventName} ${event.uuid}`);
  } catch (err) {
    failed++;
    console.error(`could not log ${event.eventName}: ${(err as Error).message}`);
  }
}
await client.shutdown();
process.exitCode = failed === 0 ? 0 : 1;
