import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEADER_SIZE } from '../../src/spool/entry-codec.js';
import type { SpoolInput } from '../../src/model/spooled-record.js';
import { decodePayload, encodeBatch } from '../../src/spool/record-codec.js';

describe('spool record encoding', () => {
  it('round-trips every field, optional ones present or not, with non-ASCII text', () => {
    const inputs: SpoolInput[] = [
      {
        uuid: '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11',
        eventName: 'audit.data_deletion',
        eventTime: 1763719200123,
        receivedAt: 1763719200456.5,
        tenantSubdomain: 'kunde-ä',
        splunk: { source: 's', sourcetype: 'otel:audit', index: 'audit_eu', host: 'pod-1' },
        targets: ['sap_auditlog/eu10', 'file'],
        json: '{"message_uuid":"0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11","message":{"data":"Grüße € 🔐"}}',
      },
      {
        uuid: 'not-a-uuid-derived-ok',
        eventName: 'audit.security_event',
        eventTime: 0,
        receivedAt: 1,
        tenantSubdomain: undefined,
        splunk: { index: 'only-index' },
        targets: undefined,
        json: '{}',
      },
    ];
    const { buffer, offsets } = encodeBatch(inputs, HEADER_SIZE);
    inputs.forEach((input, i) => {
      const end = i + 1 < offsets.length ? offsets[i + 1]! : buffer.length;
      const r = decodePayload(7 + i, buffer.subarray(offsets[i]! + HEADER_SIZE, end));
      assert.equal(r.seq, 7 + i);
      assert.equal(r.uuid, input.uuid);
      assert.equal(r.eventName, input.eventName);
      assert.equal(r.eventTime, input.eventTime);
      assert.equal(r.receivedAt, input.receivedAt);
      assert.equal(r.tenantSubdomain, input.tenantSubdomain);
      assert.deepEqual(r.splunk, input.splunk);
      assert.deepEqual(r.targets, input.targets);
      assert.equal(r.json, input.json);
      assert.equal(r.jsonBytes.toString('utf8'), input.json);
    });
  });

  it('refuses a payload of an unknown format', () => {
    assert.throws(() => decodePayload(1, Buffer.from([9, 0])), /unknown spool record format 9/);
  });
});
