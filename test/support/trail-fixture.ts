/**
 * A generated audit trail with known content: records of the six event types written by the real
 * file exporter (chained, rotating every few KiB, checkpoints signed), and the truth to compare
 * query, report and verify results with.
 */
import { randomUUID } from 'node:crypto';
import { FileExporter, createLogger, type FileExporterConfig, type SpooledRecord } from '@otel-audit/sidecar';

export interface TrailRecord {
  readonly uuid: string;
  readonly time: string;
  readonly category: string;
  readonly eventName: string;
  readonly tenant: string;
  readonly user: string;
  readonly success: boolean | undefined;
  readonly objectType: string | undefined;
  readonly subject: { type: string; id: Record<string, string> } | undefined;
  readonly json: string;
}

export const USERS = ['alice', 'bob', 'carol', 'dave'];
export const TENANTS = ['$PROVIDER', 'zone-a', 'zone-b'];
const TYPES = [
  'audit.security_event',
  'audit.data_access',
  'audit.data_modification',
  'audit.data_deletion',
  'audit.configuration_change',
  'audit.configuration_deletion',
] as const;
const CATEGORY: Record<string, string> = {
  'audit.security_event': 'audit.security-events',
  'audit.data_access': 'audit.data-access',
  'audit.data_modification': 'audit.data-modification',
  'audit.data_deletion': 'audit.data-modification',
  'audit.configuration_change': 'audit.configuration',
  'audit.configuration_deletion': 'audit.configuration',
};
/** The first record's time; record i is i × 7 minutes later (about 6 days for 1,200 records). */
export const START = Date.UTC(2026, 10, 20, 0, 0, 0);
const STEP_MS = 7 * 60_000;

function message(
  type: string,
  i: number,
  r: Omit<TrailRecord, 'json' | 'eventName' | 'category'>,
): Record<string, unknown> {
  const base = { uuid: r.uuid, user: r.user, time: r.time, tenant: r.tenant };
  const object = { type: r.objectType, id: { id: `obj-${i % 5}` } };
  switch (type) {
    case 'audit.security_event':
      return { ...base, data: `login ${r.success ? 'ok' : 'failed'} from 10.0.0.${i % 7}`, ip: `10.0.0.${i % 7}` };
    case 'audit.data_access':
      return { ...base, attributes: [{ name: 'email' }], object, data_subject: r.subject, channel: 'web' };
    case 'audit.data_modification':
      return {
        ...base,
        attributes: [{ name: 'email', old: 'a@x', new: 'b@x' }],
        object,
        data_subject: r.subject,
        success: r.success,
      };
    case 'audit.data_deletion':
      return {
        ...base,
        attributes: [{ name: 'email', old: 'a@x' }],
        object,
        data_subject: r.subject,
        success: r.success,
      };
    default:
      return { ...base, attributes: [{ name: 'mode', new: 'strict' }], object, id: `cfg-${i}`, success: r.success };
  }
}

/** How many distinct users, tenants and data subjects (default: USERS, TENANTS and 13 subjects). */
export interface TrailShape {
  readonly users?: number;
  readonly tenants?: number;
  readonly subjects?: number;
}

export function trailRecords(n: number, shape: TrailShape = {}): TrailRecord[] {
  const out: TrailRecord[] = [];
  const user = (i: number) =>
    shape.users === undefined ? USERS[(i * 7) % USERS.length]! : `user-${(i * 7919) % shape.users}`;
  const tenant = (i: number) =>
    shape.tenants === undefined ? TENANTS[i % TENANTS.length]! : `zone-${i % shape.tenants}`;
  const subjects = shape.subjects ?? 13;
  for (let i = 0; i < n; i++) {
    const eventName = TYPES[i % TYPES.length]!;
    const category = CATEGORY[eventName]!;
    const security = eventName === 'audit.security_event';
    const dataSubject = category === 'audit.data-access' || category === 'audit.data-modification';
    const r = {
      uuid: randomUUID(),
      time: new Date(START + i * STEP_MS).toISOString(),
      tenant: tenant(i),
      user: user(i),
      success: i % 11 === 0 ? undefined : i % 4 !== 1,
      objectType: security ? undefined : category === 'audit.configuration' ? 'config' : `record-${i % 2}`,
      subject: dataSubject ? { type: 'customer', id: { customer_id: String(i % subjects) } } : undefined,
    };
    const local = {
      message_uuid: r.uuid,
      time: r.time,
      category,
      tenant: r.tenant,
      user: r.user,
      format_version: '2',
      ...(r.success === undefined ? {} : { success: r.success }),
      message: message(eventName, i, r),
      resource: { 'service.name': 'trail-test' },
    };
    out.push({ ...r, eventName, category, json: JSON.stringify(local) });
  }
  return out;
}

export function spooled(records: readonly TrailRecord[], firstSeq = 0): SpooledRecord[] {
  return records.map((r, i) => ({
    seq: firstSeq + i,
    uuid: r.uuid,
    eventName: r.eventName as SpooledRecord['eventName'],
    eventTime: Date.parse(r.time),
    receivedAt: Date.now(),
    tenantSubdomain: undefined,
    splunk: {},
    targets: undefined,
    json: r.json,
    jsonBytes: Buffer.from(r.json),
  }));
}

export function fileExporterConfig(path: string, overrides: Partial<FileExporterConfig> = {}): FileExporterConfig {
  return {
    path,
    fsync: false,
    rotation: { max_megabytes: 0.01, max_backups: 0, max_days: 0, localtime: false },
    dedupe_window: 100_000,
    chain: { enabled: true, checkpoint_interval: '5m' },
    sending_queue: { num_consumers: 1, batch_size: 100 },
    retry_on_failure: { initial_interval: '10ms', max_interval: '100ms', multiplier: 1.5, randomization_factor: 0.5 },
    ...overrides,
  };
}

/** Writes `records` through a file exporter in batches of `batch`, then shuts it down. */
export async function writeTrail(
  config: FileExporterConfig,
  records: readonly TrailRecord[],
  batch = 40,
): Promise<void> {
  const exporter = new FileExporter('file', config, createLogger('silent'));
  await exporter.start();
  try {
    const all = spooled(records);
    for (let i = 0; i < all.length; i += batch) await exporter.export(all.slice(i, i + batch));
  } finally {
    await exporter.shutdown();
  }
}
