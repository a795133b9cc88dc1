/**
 * The embedded default config (a copy of collector-config/default.yaml; a test keeps the two equal).
 */
export const DEFAULT_CONFIG_SOURCE = '<embedded default: collector-config/default.yaml>';

export const DEFAULT_CONFIG_YAML = `# otel-audit default configuration: what \`otel-audit run\` (and \`npm start\`) uses without --config.
# OTLP/HTTP and OTLP/gRPC on loopback only; every audit record is written to a local JSON Lines file.
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
      grpc:
        endpoint: 127.0.0.1:4317

exporters:
  file:
    path: ./audit-data/audit.jsonl

extensions:
  storage:
    directory: ./audit-data/spool

service:
  telemetry:
    address: 127.0.0.1:8888
  pipelines:
    audit:
      receivers: [otlp]
      exporters: [file]
`;
