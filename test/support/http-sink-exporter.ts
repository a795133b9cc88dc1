import { request } from 'node:http';
import {
  RetryableExportError,
  deliverySchema,
  type Exporter,
  type ExporterFactory,
  type ExportOutcome,
  type SpooledRecord,
} from '@otel-audit/sidecar';
import type { DeliveryConfig } from '@otel-audit/sidecar';

/**
 * A test-only exporter (never product code): POSTs each batch as a JSON array of local records to
 * an HTTP endpoint, so the fault suite can exercise the spool, queues and retries against a
 * destination it controls. 2xx: delivered. 400 with `{"rejected":[i...],"reason":"..."}`: those
 * records are refused for good. 429/503 (Retry-After honoured) and connection errors: retry.
 */
interface HttpSinkConfig extends DeliveryConfig {
  endpoint: string;
}

class HttpSinkExporter implements Exporter {
  constructor(
    readonly id: string,
    private readonly config: HttpSinkConfig,
  ) {}

  async start() {}
  async shutdown() {}

  export(records: readonly SpooledRecord[]): Promise<ExportOutcome> {
    const body = `[${records.map((r) => r.json).join(',')}]`;
    return new Promise((resolve, reject) => {
      const req = request(
        this.config.endpoint,
        { method: 'POST', headers: { 'Content-Type': 'application/json' }, timeout: 5000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString();
            if (status >= 200 && status < 300) resolve({});
            else if (status === 400) {
              const parsed = JSON.parse(text) as { rejected: number[]; reason: string };
              resolve({ rejected: parsed.rejected.map((index) => ({ index, reason: parsed.reason })) });
            } else {
              const retryAfter = Number(res.headers['retry-after']);
              reject(
                new RetryableExportError(`HTTP ${status}`, Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined),
              );
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => reject(new RetryableExportError(err.message)));
      req.end(body);
    });
  }
}

export const httpSinkExporterFactory: ExporterFactory<HttpSinkConfig> = {
  type: 'http_sink',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['endpoint'],
    properties: { endpoint: { type: 'string' }, ...deliverySchema({ numConsumers: 1, batchSize: 256 }) },
  },
  create: (config, ctx) => new HttpSinkExporter(ctx.id, config),
};
