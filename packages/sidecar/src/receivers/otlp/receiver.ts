import type { ComponentContext, Receiver } from '../../component.js';
import type { LogsConsumer } from '../../model/consume.js';
import { MemoryBudget } from '../../model/memory-budget.js';
import { deriveIntakeBudget } from '../../util/memory-limit.js';
import { requestLimitsOf, type OtlpReceiverConfig } from './config.js';
import { OtlpGrpcReceiver } from './grpc-receiver.js';
import { OtlpHttpReceiver } from './http-receiver.js';
import { exposureProblem, isLoopback } from './security.js';
import { parseEndpoint } from '../../util/endpoint.js';

/** The `otlp` receiver: one server per configured protocol, all feeding the same pipeline. */
export class OtlpReceiver implements Receiver {
  private readonly http: OtlpHttpReceiver | undefined;
  private readonly grpc: OtlpGrpcReceiver | undefined;
  private readonly logger;

  constructor(
    private readonly config: OtlpReceiverConfig,
    ctx: ComponentContext,
    consumer: LogsConsumer,
  ) {
    this.logger = ctx.logger.child({ receiver: ctx.id });
    const { http, grpc } = config.protocols;
    const limits = requestLimitsOf(config.limits);
    const memory = ctx.intakeMemory ?? new MemoryBudget(deriveIntakeBudget(0).bytes);
    this.http = http
      ? new OtlpHttpReceiver(ctx.id, http, limits, consumer, this.logger, ctx.metrics, memory)
      : undefined;
    this.grpc = grpc
      ? new OtlpGrpcReceiver(ctx.id, grpc, limits, consumer, this.logger, ctx.metrics, memory)
      : undefined;
  }

  async start(): Promise<void> {
    for (const [protocol, p] of Object.entries(this.config.protocols)) {
      if (p?.insecure && exposureProblem(p.endpoint, p.tls, p.auth, false) !== undefined) {
        this.logger.warn(
          { protocol, endpoint: p.endpoint },
          'insecure: true — this receiver accepts unauthenticated, unencrypted audit records from other hosts',
        );
      }
      if (p?.auth !== undefined && p.tls === undefined && !isLoopback(parseEndpoint(p.endpoint).host)) {
        this.logger.warn(
          { protocol, endpoint: p.endpoint },
          'bearer tokens without tls: tokens and audit records cross the network unencrypted; configure tls unless a service mesh encrypts this hop',
        );
      }
    }
    await this.http?.start();
    await this.grpc?.start();
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.http?.shutdown(), this.grpc?.shutdown()]);
  }

  addresses(): Record<string, string> {
    const out: Record<string, string> = {};
    const http = this.http?.address();
    if (http !== undefined) out['http'] = http;
    const grpc = this.grpc?.address();
    if (grpc !== undefined) out['grpc'] = grpc;
    return out;
  }
}
