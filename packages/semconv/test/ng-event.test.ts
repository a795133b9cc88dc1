import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_KINDS } from '../src/event-types.js';
import { flattenId, ngRecord, uuidV5 } from '../src/ng-event.js';
import type { SapDataAccessMessage, SapSecurityEventMessage } from '../src/sap-message.js';

const T = { timeout: 5_000 };
const UUID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

describe('NG events', () => {
  it('derives v5 UUIDs as RFC 4122 does', T, () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    assert.equal(
      uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('flattens composite ids with sorted keys, as the CAP plugin does', T, () => {
    assert.equal(flattenId({ name: 'x', ID: '1', b: 'y' }), 'ID:1 b:y name:x');
    assert.equal(flattenId({}), 'not provided');
    assert.equal(flattenId(undefined), 'not provided');
  });

  it('sends a security event as one event with the record uuid', T, () => {
    const m: SapSecurityEventMessage = {
      uuid: UUID,
      user: 'u',
      time: 't',
      tenant: '$PROVIDER',
      data: 'login',
      ip: '10.0.0.1',
    };
    const r = ngRecord(EVENT_KINDS.security.ng, m, false);
    assert.equal(r.events.length, 1);
    assert.equal(r.events[0]!.id, UUID);
    assert.equal(r.sourceIp, '10.0.0.1');
    assert.deepEqual(r.events[0]!.appContext, { 'otel_audit.record_uuid': UUID, 'otel_audit.success': 'false' });
  });

  it('makes one event per attribute, data subject and attachment, each with its own stable id', T, () => {
    const m: SapDataAccessMessage = {
      uuid: UUID,
      user: 'u',
      time: 't',
      tenant: 'zone',
      attributes: [{ name: 'a', successful: false }, { name: 'b' }],
      object: { type: 'o', id: { k: '1' } },
      data_subjects: [
        { type: 's', id: { id: '1' } },
        { type: 's', role: 'r', id: { id: '2' } },
      ],
      attachments: [{ id: 'x' }],
    };
    const r = ngRecord(EVENT_KINDS['data-access'].ng, m, undefined);
    assert.equal(r.events.length, 4);
    assert.deepEqual(
      r.events.map((e) => [e.attribute, e.dataSubjectId, e.attachmentId, e.attachmentType, e.channelType]),
      [
        ['a', 'id:1', 'x', 'not provided', 'not specified'],
        ['a', 'id:2', 'x', 'not provided', 'not specified'],
        ['b', 'id:1', 'x', 'not provided', 'not specified'],
        ['b', 'id:2', 'x', 'not provided', 'not specified'],
      ],
    );
    assert.equal(new Set(r.events.map((e) => e.id)).size, 4);
    assert.equal(r.events[0]!.id, uuidV5(UUID, 'attribute:a\u0000subject:0\u0000attachment:x'));
    assert.deepEqual(ngRecord(EVENT_KINDS['data-access'].ng, m, undefined), r, 'the same record gives the same events');
    assert.equal(r.events[0]!.appContext['otel_audit.successful'], 'false');
    assert.equal(r.events[1]!.appContext['otel_audit.data_subject_role'], 'r');
  });
});
