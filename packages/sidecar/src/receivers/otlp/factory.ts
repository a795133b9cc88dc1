import type { ReceiverFactory } from '../../component.js';
import { checkEndpointPort } from '../../config/schema.js';
import { otlpReceiverSchema, type OtlpReceiverConfig } from './config.js';
import { OtlpReceiver } from './receiver.js';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  type: 'otlp',
  schema: otlpReceiverSchema,
  validate(config, path) {
    const http = config.protocols.http;
    return http ? checkEndpointPort(http.endpoint, `${path}.protocols.http.endpoint`) : [];
  },
  normalize(raw) {
    // As in the Collector, a protocol key with no settings (`http:`) enables it with defaults.
    const protocols = (raw as { protocols?: Record<string, unknown> } | null)?.protocols;
    if (protocols && typeof protocols === 'object') {
      for (const [k, v] of Object.entries(protocols)) if (v === null) protocols[k] = {};
    }
    return raw;
  },
  create: (config, ctx, consumer) => new OtlpReceiver(config, ctx, consumer),
};
