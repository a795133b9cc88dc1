import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditEventName } from '@otel-audit/semconv';
import type { SpooledRecord, SpoolEventName, SpoolInput } from '../../src/model/spooled-record.js';
import { HEADER_SIZE, parseEntry } from '../../src/spool/entry-codec.js';
import { EVENT_CODES, encodeBatch } from '../../src/spool/record-codec.js';
import { Spool } from '../../src/spool/spool.js';
import { createLogger } from '../../src/telemetry/logger.js';

/*
 * A spool written by an earlier release (testdata/spool-v0.1.0, made by otel-audit 0.1.0 before the
 * record codec moved): every later version must read it back exactly and write the same bytes for
 * the same records, or records already on disk at an upgrade would be lost or relabelled.
 */

// The compiled test runs from dist/test/spool; the data stays in the source tree.
const GOLDEN = fileURLToPath(new URL('../../../test/spool/testdata/spool-v0.1.0/', import.meta.url));
const SEGMENT = '00000000000000000001.seg';

interface ExpectedRecord {
  seq: number;
  uuid: string;
  eventName: SpoolEventName;
  eventTime: number;
  receivedAt: number;
  tenantSubdomain: string | null;
  splunk: SpoolInput['splunk'];
  targets: string[] | null;
  json: string;
}

function plain(r: SpooledRecord): ExpectedRecord {
  return {
    seq: r.seq,
    uuid: r.uuid,
    eventName: r.eventName,
    eventTime: r.eventTime,
    receivedAt: r.receivedAt,
    tenantSubdomain: r.tenantSubdomain ?? null,
    splunk: r.splunk,
    targets: r.targets === undefined ? null : [...r.targets],
    json: r.json,
  };
}

describe('spool written by otel-audit 0.1.0', { timeout: 30_000 }, () => {
  let dir: string;
  let expected: ExpectedRecord[];

  before(async () => {
    expected = (JSON.parse(await readFile(join(GOLDEN, 'expected.json'), 'utf8')) as { records: ExpectedRecord[] })
      .records;
  });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('keeps the event type codes of records on disk', () => {
    assert.deepEqual(
      { ...EVENT_CODES },
      {
        [AuditEventName.SecurityEvent]: 0,
        [AuditEventName.DataAccess]: 1,
        [AuditEventName.DataModification]: 2,
        [AuditEventName.DataDeletion]: 3,
        [AuditEventName.ConfigurationChange]: 4,
        [AuditEventName.ConfigurationDeletion]: 5,
      },
    );
    assert.ok(Object.isFrozen(EVENT_CODES));
  });

  it('reads every record back with its cursors, for each exporter', async () => {
    dir = await mkdtemp(join(tmpdir(), 'golden-spool-'));
    await cp(GOLDEN, dir, { recursive: true });
    const spool = await Spool.open({
      directory: dir,
      maxSizeBytes: 1 << 30,
      segmentSizeBytes: 16 << 20,
      cacheBytes: 1 << 20,
      consumers: ['file', 'sap_auditlog', 'splunk_hec/eu.10'],
      logger: createLogger('silent'),
    });
    try {
      const readAll = async (consumer: string) => {
        const reader = spool.reader(consumer);
        try {
          const batch = await reader.read(1000, 16 << 20);
          assert.ok(batch !== undefined);
          return batch.records.map(plain);
        } finally {
          await reader.close();
        }
      };
      assert.equal(expected.length, 8);
      // The replayed dead letter (7th entry) is addressed to sap_auditlog only.
      assert.deepEqual(await readAll('sap_auditlog'), expected);
      const others = expected.filter((r) => r.targets === null);
      assert.deepEqual(await readAll('file'), others);
      assert.deepEqual(await readAll('splunk_hec/eu.10'), others);
      assert.deepEqual(
        [...new Set(expected.map((r) => r.eventName))].sort(),
        Object.values(AuditEventName).sort(),
        'the golden data covers every event type',
      );
    } finally {
      await spool.close();
    }
  });

  it('writes the same bytes for the same records', async () => {
    const segment = await readFile(join(GOLDEN, SEGMENT));
    const inputs: SpoolInput[] = expected.map((r) => ({
      uuid: r.uuid,
      eventName: r.eventName,
      eventTime: r.eventTime,
      receivedAt: r.receivedAt,
      tenantSubdomain: r.tenantSubdomain ?? undefined,
      splunk: r.splunk,
      targets: r.targets ?? undefined,
      json: r.json,
    }));
    const { buffer, offsets } = encodeBatch(inputs, HEADER_SIZE);
    let at = 0;
    for (let i = 0; i < inputs.length; i++) {
      const entry = parseEntry(segment, at);
      assert.equal(entry.kind, 'entry');
      if (entry.kind !== 'entry') return;
      const end = i + 1 < offsets.length ? offsets[i + 1]! : buffer.length;
      assert.deepEqual(
        buffer.subarray(offsets[i]! + HEADER_SIZE, end),
        entry.payload,
        `payload of record ${i + 1} (${inputs[i]!.eventName})`,
      );
      at += entry.size;
    }
    assert.equal(at, segment.length);
  });
});
