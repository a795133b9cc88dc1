import { readFileSync } from 'node:fs';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface ExporterSettings {
  readonly protocol: OtlpProtocol;
  /** Full URL: `.../v1/logs` for HTTP, `http(s)://host:port` for gRPC. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number;
  readonly compression: 'gzip' | 'none';
  /** PEM contents (not paths) for TLS. */
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

export interface ExporterOptions {
  /** `http/protobuf` (default), `http/json` or `grpc`. Env: OTEL_EXPORTER_OTLP_(LOGS_)PROTOCOL. */
  protocol?: OtlpProtocol;
  /**
   * Where the sidecar listens. For HTTP a base URL (`/v1/logs` is appended unless the URL already
   * has a path); for gRPC `http(s)://host:port`. Default `http://127.0.0.1:4318` (HTTP) or
   * `http://127.0.0.1:4317` (gRPC). Env: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (used as is) or
   * OTEL_EXPORTER_OTLP_ENDPOINT (base).
   */
  endpoint?: string;
  /** Extra request headers (e.g. `authorization`). Env: OTEL_EXPORTER_OTLP_(LOGS_)HEADERS. */
  headers?: Record<string, string>;
  /** Per-request timeout. Env: OTEL_EXPORTER_OTLP_(LOGS_)TIMEOUT. Default 10000. */
  timeoutMillis?: number;
  /** Env: OTEL_EXPORTER_OTLP_(LOGS_)COMPRESSION. Default none (the sidecar is next door). */
  compression?: 'gzip' | 'none';
}

type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const v = env[`OTEL_EXPORTER_OTLP_LOGS_${name}`] ?? env[`OTEL_EXPORTER_OTLP_${name}`];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** `k1=v1,k2=v2` with URL-encoded values (the OTel environment variable format). */
export function parseHeaders(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function readPem(env: Env, name: string): string | undefined {
  const file = envValue(env, name);
  return file === undefined ? undefined : readFileSync(file, 'utf8');
}

/** Resolves exporter settings from options, then the standard OTEL_EXPORTER_OTLP_* variables, then defaults. */
export function resolveExporterSettings(options: ExporterOptions = {}, env: Env = process.env): ExporterSettings {
  const protocolValue = options.protocol ?? envValue(env, 'PROTOCOL') ?? 'http/protobuf';
  if (protocolValue !== 'http/protobuf' && protocolValue !== 'http/json' && protocolValue !== 'grpc') {
    throw new TypeError(`unsupported OTLP protocol "${protocolValue}" (use http/protobuf, http/json or grpc)`);
  }
  const protocol: OtlpProtocol = protocolValue;
  const grpc = protocol === 'grpc';
  let url: string;
  if (options.endpoint !== undefined) {
    url = grpc ? options.endpoint : withLogsPath(options.endpoint, false);
  } else if (env['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT']?.trim()) {
    url = env['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'].trim();
  } else if (env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim()) {
    const base = env['OTEL_EXPORTER_OTLP_ENDPOINT'].trim();
    url = grpc ? base : withLogsPath(base, true);
  } else {
    url = grpc ? 'http://127.0.0.1:4317' : 'http://127.0.0.1:4318/v1/logs';
  }
  const timeout = options.timeoutMillis ?? Number(envValue(env, 'TIMEOUT') ?? 10_000);
  const compression = options.compression ?? (envValue(env, 'COMPRESSION') === 'gzip' ? 'gzip' : 'none');
  return {
    protocol,
    url,
    headers: {
      ...parseHeaders(env['OTEL_EXPORTER_OTLP_HEADERS']),
      ...parseHeaders(env['OTEL_EXPORTER_OTLP_LOGS_HEADERS']),
      ...options.headers,
    },
    timeoutMillis: Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
    compression,
    tls: { ca: readPem(env, 'CERTIFICATE'), cert: readPem(env, 'CLIENT_CERTIFICATE'), key: readPem(env, 'CLIENT_KEY') },
  };
}

/** OTEL_EXPORTER_OTLP_ENDPOINT is a base (always append); an explicit option keeps a path it has. */
function withLogsPath(endpoint: string, alwaysAppend: boolean): string {
  const u = new URL(endpoint);
  if (alwaysAppend || u.pathname === '/' || u.pathname === '') {
    u.pathname = `${u.pathname.replace(/\/$/, '')}/v1/logs`;
  }
  return u.toString();
}
