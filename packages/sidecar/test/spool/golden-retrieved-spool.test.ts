import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RETRIEVED_EVENT_NAME, type SpooledRecord, type SpoolInput } from '../../src/model/spooled-record.js';
import { HEADER_SIZE, parseEntry } from '../../src/spool/entry-codec.js';
import { EVENT_CODES, RETRIEVED_RECORD_CODE, encodeBatch } from '../../src/spool/record-codec.js';
import { Spool } from '../../src/spool/spool.js';
import { createLogger } from '../../src/telemetry/logger.js';

/*
 * Records retrieved from SAP (testdata/spool-retrieved-v1, written by the first version that had
 * them): spool type code 6, the system id as Splunk source, the local record JSON with the API's
 * fields. Every later version must read them back exactly and write the same bytes.
 */

const GOLDEN = fileURLToPath(new URL('../../../test/spool/testdata/spool-retrieved-v1/', import.meta.url));
const SEGMENT = '00000000000000000001.seg';

interface ExpectedRecord {
  seq: number;
  uuid: string;
  eventName: string;
  eventTime: number;
  receivedAt: number;
  tenantSubdomain: null;
  splunk: SpoolInput['splunk'];
  targets: string[] | null;
  json: string;
}

function plain(r: SpooledRecord): ExpectedRecord {
  assert.equal(r.tenantSubdomain, undefined);
  return {
    seq: r.seq,
    uuid: r.uuid,
    eventName: r.eventName,
    eventTime: r.eventTime,
    receivedAt: r.receivedAt,
    tenantSubdomain: null,
    splunk: r.splunk,
    targets: r.targets === undefined ? null : [...r.targets],
    json: r.json,
  };
}

describe('spool with records retrieved from SAP (first version)', { timeout: 30_000 }, () => {
  let dir: string;
  let expected: ExpectedRecord[];

  before(async () => {
    expected = (JSON.parse(await readFile(join(GOLDEN, 'expected.json'), 'utf8')) as { records: ExpectedRecord[] })
      .records;
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('keeps code 6 for retrieved records, apart from the six event codes', async () => {
    assert.equal(RETRIEVED_RECORD_CODE, 6);
    assert.ok(!Object.values(EVENT_CODES).includes(RETRIEVED_RECORD_CODE));
    const segment = await readFile(join(GOLDEN, SEGMENT));
    const first = parseEntry(segment, 0);
    assert.equal(first.kind, 'entry');
    if (first.kind === 'entry') assert.equal(first.payload[1], 6, 'the type byte on disk');
  });

  it('reads every record back, for each exporter', async () => {
    dir = await mkdtemp(join(tmpdir(), 'golden-retrieved-'));
    await cp(GOLDEN, dir, { recursive: true });
    const spool = await Spool.open({
      directory: dir,
      maxSizeBytes: 1 << 30,
      segmentSizeBytes: 16 << 20,
      cacheBytes: 1 << 20,
      consumers: ['file', 'splunk_hec'],
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
      assert.equal(expected.length, 4);
      assert.ok(expected.every((r) => r.eventName === RETRIEVED_EVENT_NAME));
      // The 4th entry is a replayed dead letter for splunk_hec only.
      assert.deepEqual(await readAll('splunk_hec'), expected);
      assert.deepEqual(await readAll('file'), expected.slice(0, 3));
    } finally {
      await spool.close();
    }
  });

  it('writes the same bytes for the same records', async () => {
    const segment = await readFile(join(GOLDEN, SEGMENT));
    const inputs: SpoolInput[] = expected.map((r) => ({
      uuid: r.uuid,
      eventName: RETRIEVED_EVENT_NAME,
      eventTime: r.eventTime,
      receivedAt: r.receivedAt,
      tenantSubdomain: undefined,
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
      assert.deepEqual(buffer.subarray(offsets[i]! + HEADER_SIZE, end), entry.payload, `payload of record ${i + 1}`);
      at += entry.size;
    }
    assert.equal(at, segment.length);
  });
});
