/** What one OTLP export attempt came to. */
export type SendResult =
  | { readonly kind: 'ok'; readonly body: Uint8Array }
  | { readonly kind: 'retryable'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'failed'; readonly reason: string };

/** Sends one serialized ExportLogsServiceRequest. */
export interface OtlpTransport {
  send(body: Uint8Array, timeoutMillis: number): Promise<SendResult>;
  close(): void;
}

/** Error codes of connection failures worth retrying (the sidecar restarting, a dropped connection). */
export const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);
