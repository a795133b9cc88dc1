import type { ComponentContext, LogsConsumer, Receiver } from '../../component.js';
import type { OtlpReceiverConfig } from './config.js';
import { OtlpHttpReceiver } from './http-receiver.js';

/** The `otlp` receiver: one server per configured protocol, all feeding the same pipeline. */
export class OtlpReceiver implements Receiver {
  private readonly http: OtlpHttpReceiver | undefined;

  constructor(config: OtlpReceiverConfig, ctx: ComponentContext, consumer: LogsConsumer) {
    const logger = ctx.logger.child({ receiver: ctx.id });
    const http = config.protocols.http;
    this.http = http ? new OtlpHttpReceiver(ctx.id, http, consumer, logger, ctx.metrics) : undefined;
  }

  async start(): Promise<void> {
    await this.http?.start();
  }

  async shutdown(): Promise<void> {
    await this.http?.shutdown();
  }

  addresses(): Record<string, string> {
    const out: Record<string, string> = {};
    const http = this.http?.address();
    if (http !== undefined) out['http'] = http;
    return out;
  }
}
