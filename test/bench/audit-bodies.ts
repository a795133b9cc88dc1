import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  ChangeAttribute,
  ConfigurationChangeEvent,
  ConfigurationDeletionEvent,
  DataAccessAttribute,
  DataAccessEvent,
  DataDeletionEvent,
  DataModificationEvent,
  DeletedAttribute,
  SecurityEvent,
  SecurityEventAttribute,
  type AuditEvent,
} from '@otel-audit/sdk';

export interface RequestBodies {
  readonly bodies: Uint8Array[];
  /** Mean number of attributes per log record. */
  readonly attributesPerRecord: number;
}

/**
 * OTLP/protobuf `ExportLogsServiceRequest` bodies encoded by the official OTel JS SDK, each with
 * `recordsPerBody` audit events cycling through the six event types. Every event has its own
 * random UUID (`log.record.uid`), so no two records are alike.
 */
export function buildRequestBodies(count: number, recordsPerBody: number): RequestBodies {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': 'bench-app',
      'service.version': '1.4.2',
      'deployment.environment.name': 'production',
    }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('@otel-audit/sdk', '0.1.0');
  const bodies: Uint8Array[] = [];
  let attributes = 0;
  for (let b = 0; b < count; b++) {
    exporter.reset();
    for (let i = 0; i < recordsPerBody; i++) {
      const event = auditEvent(b * recordsPerBody + i);
      event.validate();
      logger.emit(event.toLogRecord());
    }
    const records = exporter.getFinishedLogRecords();
    for (const r of records) attributes += Object.keys(r.attributes).length;
    const body = ProtobufLogsSerializer.serializeRequest(records);
    if (body === undefined) throw new Error('the OTel protobuf serializer produced no request body');
    bodies.push(body);
  }
  return { bodies, attributesPerRecord: attributes / (count * recordsPerBody) };
}

const EVENT_FACTORIES: readonly ((n: number) => AuditEvent)[] = [
  securityEvent,
  dataAccessEvent,
  dataModificationEvent,
  dataDeletionEvent,
  configurationChangeEvent,
  configurationDeletionEvent,
];

/** The n-th event: the six types in turn, values varying with n. */
function auditEvent(n: number): AuditEvent {
  return EVENT_FACTORIES[n % EVENT_FACTORIES.length]!(n);
}

/** Fields every event carries; three custom details (`audit.custom.*`) as applications typically add. */
function common(n: number) {
  return {
    user: `user-${n % 997}@example.com`,
    customDetails: {
      requestId: `req-${n.toString(16).padStart(8, '0')}`,
      sourceSystem: 'order-service',
      region: n % 2 === 0 ? 'eu10' : 'us20',
    },
  };
}

function personalData(n: number) {
  return {
    objectType: 'customer record',
    objectId: { id: `C-${100_000 + n}` },
    subjectType: 'customer',
    subjectId: { id: `C-${100_000 + n}`, email: `customer-${n}@example.org` },
  };
}

function securityEvent(n: number): AuditEvent {
  return new SecurityEvent({
    ...common(n),
    data: `${1 + (n % 5)} unsuccessful login attempts`,
    ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    identityProvider: 'accounts.sap.com',
    success: false,
    attributes: [
      new SecurityEventAttribute('action', 'login'),
      new SecurityEventAttribute('client', 'web-ui'),
      new SecurityEventAttribute('reason', 'invalid password'),
    ],
  });
}

function dataAccessEvent(n: number): AuditEvent {
  return new DataAccessEvent({
    ...common(n),
    ...personalData(n),
    subjectRole: 'account holder',
    channel: 'API',
    identityProvider: 'accounts.sap.com',
    success: true,
    attributes: [new DataAccessAttribute('iban', true), new DataAccessAttribute('birth_date', true)],
    attachments: [{ id: `doc-${n}` }],
  });
}

function dataModificationEvent(n: number): AuditEvent {
  return new DataModificationEvent({
    ...common(n),
    ...personalData(n),
    success: true,
    id: `change-${n}`,
    attributes: [
      new ChangeAttribute('email', `new-${n}@example.org`, `customer-${n}@example.org`),
      new ChangeAttribute('phone', `+49 30 ${1_000_000 + n}`, `+49 30 ${2_000_000 + n}`),
    ],
  });
}

function dataDeletionEvent(n: number): AuditEvent {
  return new DataDeletionEvent({
    ...common(n),
    ...personalData(n),
    success: true,
    attributes: [new DeletedAttribute('street', `Main Street ${n % 200}`), new DeletedAttribute('city', 'Berlin')],
  });
}

function configurationChangeEvent(n: number): AuditEvent {
  return new ConfigurationChangeEvent({
    ...common(n),
    objectType: 'tenant settings',
    objectId: { id: `tenant-${n % 50}`, name: 'password policy' },
    success: true,
    attributes: [
      new ChangeAttribute('min_length', String(12 + (n % 4)), '10'),
      new ChangeAttribute('max_age_days', '90', '180'),
    ],
  });
}

function configurationDeletionEvent(n: number): AuditEvent {
  return new ConfigurationDeletionEvent({
    ...common(n),
    objectType: 'api key',
    objectId: { id: `key-${n}` },
    success: true,
    attributes: [new DeletedAttribute('scope', 'orders:read'), new DeletedAttribute('owner', `team-${n % 12}`)],
  });
}
