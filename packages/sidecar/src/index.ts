export { Service, type StartOptions } from './service.js';
export { runCommand } from './cli/run.js';
export { replayCommand } from './cli/replay.js';
export { listDamagedCommand } from './cli/list-damaged.js';
export { openStorage, type Storage, type OpenStorageOptions } from './open-storage.js';
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
  Receiver,
  ReceiverFactory,
} from './component.js';
export type { LogsConsumer, ConsumeResult, RejectedRecord } from './model/consume.js';
export { BackpressureError, PermanentError, RetryableExportError } from './model/errors.js';
export type { SpooledRecord } from './model/spooled-record.js';
export type { AuditRecord, SplunkMetadata } from './model/audit-record.js';
export { localRecordJson, type LocalRecord } from './model/local-record.js';
export { DEFAULT_REQUEST_LIMITS, type RequestLimits, type RecordLimits } from './model/limits.js';
export type { LogsRequest, LogRecord, ResourceLogs, ScopeLogs } from './model/otlp-logs.js';
export { decodeLogsRequestProto } from './otlp/decode-proto.js';
export { decodeLogsRequestJson } from './otlp/decode-json.js';
export { OtlpDecodeError } from './otlp/errors.js';
export { createLogger, type Logger } from './telemetry/logger.js';
export { Metrics } from './telemetry/metrics.js';
export { FileExporter } from './exporters/file/file-exporter.js';
export type { FileExporterConfig } from './exporters/file/config.js';
