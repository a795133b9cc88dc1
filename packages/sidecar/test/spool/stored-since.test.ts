import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SYSTEM_ID_ATTRIBUTE, type RetrievedRecord } from '../../src/model/local-record.js';
import { spoolInputOfRetrieved, type SpoolInput } from '../../src/model/spooled-record.js';
import { segmentFileName } from '../../src/spool/segments.js';
import { Spool } from '../../src/spool/spool.js';
import { retrievedSince } from '../../src/spool/stored-since.js';
import { createLogger } from '../../src/telemetry/logger.js';

const logger = createLogger('silent');

function retrieved(systemId: string): SpoolInput {
  const record: RetrievedRecord = {
    message_uuid: randomUUID(),
    time: '2026-11-21T10:00:00.000Z',
    category: 'audit.security-events',
    tenant: 't',
    user: 'u',
    format_version: '',
    message: { data: 'x'.repeat(200) },
    resource: { [SYSTEM_ID_ATTRIBUTE]: systemId },
  };
  return spoolInputOfRetrieved(record, 0, 0);
}

function ours(): SpoolInput {
  const uuid = randomUUID();
  return {
    uuid,
    eventName: 'audit.security_event',
    eventTime: 0,
    receivedAt: 0,
    tenantSubdomain: undefined,
    // An audit record of ours whose Splunk source happens to equal a system id is not a retrieved record.
    splunk: { source: 'prod-eu10' },
    targets: undefined,
    json: JSON.stringify({ message_uuid: uuid }),
  };
}

describe('which retrieved records the spool holds since a mark', () => {
  let dir: string;
  let spool: Spool;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-stored-since-'));
    spool = await Spool.open({
      directory: dir,
      maxSizeBytes: 64 << 20,
      segmentSizeBytes: 4096,
      cacheBytes: 1 << 20,
      consumers: ['file'],
      logger,
    });
  });
  afterEach(async () => {
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("finds the system's records written at or after the mark, across segments", async () => {
    const before = [retrieved('prod-eu10'), ours()];
    await spool.append(before);
    const mark = spool.nextSequence();
    const mine = Array.from({ length: 40 }, () => retrieved('prod-eu10'));
    const other = [retrieved('prod-us10'), ours()];
    for (let i = 0; i < mine.length; i += 8) await spool.append([...mine.slice(i, i + 8), ...other]);
    const found = await retrievedSince(dir, mark, spool.nextSequence(), 'prod-eu10', logger);
    assert.equal(found.complete, true);
    assert.deepEqual([...found.uuids].sort(), mine.map((r) => r.uuid).sort());
    assert.ok(spool.stats().segments > 3, 'the records span several segments');
  });

  it('is complete and empty when nothing was written since the mark', async () => {
    await spool.append([retrieved('prod-eu10')]);
    const found = await retrievedSince(dir, spool.nextSequence(), spool.nextSequence(), 'prod-eu10', logger);
    assert.deepEqual(found, { uuids: new Set(), complete: true });
  });

  it('says when the spool no longer reaches back to the mark', async () => {
    const mark = spool.nextSequence();
    for (let i = 0; i < 6; i++) await spool.append(Array.from({ length: 8 }, () => retrieved('prod-eu10')));
    await unlink(join(dir, segmentFileName(1))); // as if every exporter had delivered it and it was deleted
    const found = await retrievedSince(dir, mark, spool.nextSequence(), 'prod-eu10', logger);
    assert.equal(found.complete, false);
    assert.ok(found.uuids.size > 0 && found.uuids.size < 48);
  });
});
