import { SeverityNumber, type LogRecord as ApiLogRecord } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';

/** Log records as the official OpenTelemetry JS SDK builds them, for encoding with its serializers. */
export function otelRecords(
  records: ApiLogRecord[],
  resource: Record<string, string> = { 'service.name': 'billing' },
  scope = { name: 'audit-test', version: '1.2.3' },
): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger(scope.name, scope.version);
  for (const r of records) logger.emit(r);
  return exporter.getFinishedLogRecords();
}

export { SeverityNumber };
