import type { ReceiverFactory } from '../../component.js';
import type { ConfigProblem } from '../../config/problems.js';
import { checkEndpointPort } from '../../config/schema.js';
import { otlpReceiverSchema, requestLimitsOf, type OtlpReceiverConfig } from './config.js';
import { OtlpReceiver } from './receiver.js';
import { exposureProblem } from './security.js';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  type: 'otlp',
  schema: otlpReceiverSchema,
  normalize(raw) {
    // As in the Collector, a protocol key with no settings (`http:`) enables it with defaults.
    const protocols = (raw as { protocols?: Record<string, unknown> } | null)?.protocols;
    if (protocols && typeof protocols === 'object') {
      for (const [k, v] of Object.entries(protocols)) if (v === null) protocols[k] = {};
    }
    return raw;
  },
  validate(config, path) {
    const problems: ConfigProblem[] = [];
    for (const [name, p] of Object.entries(config.protocols)) {
      if (p === undefined) continue;
      const at = `${path}.protocols.${name}`;
      problems.push(...checkEndpointPort(p.endpoint, `${at}.endpoint`));
      const exposed = exposureProblem(p.endpoint, p.tls, p.auth, p.insecure);
      if (exposed !== undefined) problems.push({ path: `${at}.endpoint`, message: exposed });
      if (
        p.auth !== undefined &&
        (p.auth.bearer_tokens ?? []).length === 0 &&
        p.auth.bearer_tokens_file === undefined
      ) {
        problems.push({ path: `${at}.auth`, message: 'give bearer_tokens or bearer_tokens_file' });
      }
    }
    return problems;
  },
  create: (config, ctx, consumer) => new OtlpReceiver(config, ctx, consumer),
  requestLimits: (config) => requestLimitsOf(config.limits),
};
