import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AuditRecord } from '../../src/model/audit-record.js';
import type { SpoolInput } from '../../src/model/spooled-record.js';
import { SpoolSink } from '../../src/pipeline/spool-sink.js';
import { Spool } from '../../src/spool/spool.js';
import { tailUuids } from '../../src/spool/tail-uuids.js';
import { createLogger } from '../../src/telemetry/logger.js';

function auditRecord(uuid = randomUUID()): AuditRecord {
  return {
    uuid,
    eventName: 'audit.security_event',
    category: 'audit.security-events',
    sapEndpoint: 'security-events',
    time: '2025-11-21T10:00:00.123Z',
    timeMs: Date.UTC(2025, 10, 21, 10, 0, 0, 123),
    success: undefined,
    message: { uuid, user: 'u', time: '2025-11-21T10:00:00.123Z', tenant: '$PROVIDER', data: 'login' },
    resourceJson: '{}',
    tenantSubdomain: undefined,
    splunk: {},
  };
}

describe('records sent again after a crash', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-resent-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads the uuids at the end of the spool, across segments, without replayed dead letters', async () => {
    const spool = await Spool.open({
      directory: dir,
      maxSizeBytes: 1 << 26,
      segmentSizeBytes: 4096,
      cacheBytes: 1 << 20,
      consumers: ['file'],
      logger: createLogger('silent'),
    });
    const inputs: SpoolInput[] = Array.from({ length: 60 }, (_, i) => {
      const uuid = randomUUID();
      return {
        uuid,
        eventName: 'audit.security_event',
        eventTime: i,
        receivedAt: i,
        tenantSubdomain: undefined,
        splunk: {},
        targets: i === 59 ? ['file'] : undefined,
        json: JSON.stringify({ message_uuid: uuid, pad: 'x'.repeat(60) }),
      };
    });
    for (let i = 0; i < 60; i += 10) await spool.append(inputs.slice(i, i + 10));
    await spool.close();
    const all = await tailUuids(dir, 1 << 20);
    assert.deepEqual(
      [...all].sort(),
      inputs
        .slice(0, 59)
        .map((r) => r.uuid)
        .sort(),
    );
    // A window of 1 KiB holds the last few records only (read from the middle of a segment).
    const last = await tailUuids(dir, 1024);
    assert.ok(last.size > 0 && last.size < 10, `${last.size} uuids`);
    for (const u of last) assert.ok(inputs.slice(50, 59).some((r) => r.uuid === u));
    assert.deepEqual(await tailUuids(join(dir, 'nothing-here'), 1024).catch(() => 'error'), 'error');
  });

  it('stores records of a request stored before the start only once, until the window ends', async () => {
    const stored: string[] = [];
    const again = auditRecord();
    let duplicates = 0;
    let until = Date.now() + 60_000;
    const sink = new SpoolSink(
      { append: async (inputs) => void stored.push(...inputs.map((i) => i.uuid)) },
      {
        uuids: new Set([again.uuid]),
        get until() {
          return until;
        },
        onDuplicates: (n) => (duplicates += n),
      },
    );
    const fresh = auditRecord();
    await sink.write([again, fresh]);
    await sink.write([again]);
    assert.deepEqual(stored, [fresh.uuid]);
    assert.equal(duplicates, 2);
    until = Date.now() - 1;
    await sink.write([again]);
    assert.deepEqual(stored, [fresh.uuid, again.uuid]);
  });
});
