import { randomUUID } from 'node:crypto';
import type { SplunkMetadata } from '../../../src/model/audit-record.js';
import type { SpooledRecord } from '../../../src/model/spooled-record.js';

/** A spooled security event with a realistic local record (docs/semantic-conventions.md). */
export function spooledRecord(
  options: {
    seq?: number;
    uuid?: string;
    timeMs?: number;
    splunk?: SplunkMetadata;
    data?: string;
    user?: string;
    success?: boolean;
    resource?: Record<string, unknown>;
  } = {},
): SpooledRecord {
  const uuid = options.uuid ?? randomUUID();
  const timeMs = options.timeMs ?? Date.UTC(2025, 10, 21, 10, 0, 0, 123);
  const time = new Date(timeMs).toISOString();
  const user = options.user ?? 'john.doe';
  const local = {
    message_uuid: uuid,
    time,
    category: 'audit.security-events',
    tenant: '$PROVIDER',
    user,
    format_version: '2',
    ...(options.success === undefined ? {} : { success: options.success }),
    message: {
      uuid,
      user,
      time,
      tenant: '$PROVIDER',
      data: options.data ?? 'login failed',
      ip: '10.0.0.1',
      attributes: [{ name: 'login.method', value: 'password' }],
      customDetails: { 'request.id': 'r-1' },
    },
    resource: options.resource ?? { 'service.name': 'billing', 'k8s.pod.name': 'billing-7c9' },
  };
  const json = JSON.stringify(local);
  return {
    seq: options.seq ?? 0,
    uuid,
    eventName: 'audit.security_event',
    eventTime: timeMs,
    receivedAt: timeMs + 5,
    tenantSubdomain: undefined,
    splunk: options.splunk ?? {},
    targets: undefined,
    json,
    jsonBytes: Buffer.from(json),
  };
}

/** Parses concatenated JSON objects (HEC's batch format) as the test server does. */
export function parseConcatenated(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>);
  }
  return out;
}
