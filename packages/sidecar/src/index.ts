export { Service, type StartOptions } from './service.js';
export { runCommand } from './cli/run.js';
export { replayCommand } from './cli/replay.js';
export type { SpooledRecord } from './spool/spooled-record.js';
export type { DeliveryConfig } from './delivery/config.js';
export { deliverySchema } from './delivery/config.js';
export {
  parseConfig,
  loadConfigFile,
  type ServiceConfig,
  type ComponentConfig,
  type ParseOptions,
} from './config/load.js';
export { ConfigError, formatProblem, type ConfigProblem } from './config/problems.js';
export { DEFAULT_CONFIG_YAML, DEFAULT_CONFIG_SOURCE } from './config/default-config.js';
export { defaultRegistry, type ComponentRegistry } from './components.js';
export type {
  ComponentContext,
  Exporter,
  ExporterFactory,
  ExportOutcome,
  LogsConsumer,
  Receiver,
  ReceiverFactory,
} from './component.js';
export { BackpressureError, RetryableExportError } from './component.js';
export { decodeLogsRequestProto } from './otlp/decode-proto.js';
export { decodeLogsRequestJson } from './otlp/decode-json.js';
export { OtlpDecodeError, type LogsRequest, type LogRecord, type ResourceLogs, type ScopeLogs } from './otlp/model.js';
export { localRecordJson, type AuditRecord, type LocalRecord, type SplunkMetadata } from './pipeline/audit-record.js';
export { createLogger, type Logger } from './telemetry/logger.js';
export { Metrics } from './telemetry/metrics.js';
