import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retrievedRecordJson } from '../../../src/model/local-record.js';
import { spoolInputOfRetrieved, RETRIEVED_EVENT_NAME } from '../../../src/model/spooled-record.js';
import { toRetrieved } from '../../../src/receivers/sap-auditlog-retrieval/records.js';

/** The documented example record (reference §3.4). */
const EXAMPLE = {
  message_uuid: 'e3a533c1-57b3-42b5-b514-8934ec5b6a6a',
  time: '2018-10-04T08:12:00.239Z',
  tenant: 'c6da83a8-dc72-4374-b8f7-42b37a99XXXX',
  org_id: '82f1da92-e5b3-4cc5-8c90-964165afXXXX',
  space_id: '82f1da92-e5b3-4cc5-8c90-964165aXXXX',
  app_or_service_id: '5fb40c3a-d36a-42c7-adc8-e4abd83dXXXX',
  als_service_id: 'c18f9b6d-a8af-431c-a187-749ebc59XXXX',
  user: 'test',
  category: 'audit.security-events',
  format_version: '',
  message: {
    uuid: ' e3a533c1-57b3-42b5-b514-8934ec5b6a6a ',
    user: 'test',
    time: '2018-10-04T08:12:00.239Z',
    ip: '10.58.183.15',
    data: '{"level":"INFO","origin":null,"msgNo":1,"version":"1.0"}',
    id: 'cb046a0f-cc23-406b-a1d2-22ee6cf89a4d',
    category: 'audit.security-events',
    tenant: 'c6da83a8-dc72-4374-b8f7-42b37a99XXXX',
  },
};

describe('retrieved records', () => {
  it('become local records with the API fields kept and the system as resource', () => {
    const r = toRetrieved(EXAMPLE, 'prod-eu10')!;
    assert.equal(r.timeMs, Date.parse(EXAMPLE.time));
    assert.equal(r.unparsedMessage, false);
    const json = retrievedRecordJson(r.record);
    // The field order of our own local records (message_uuid first, message and resource last).
    assert.equal(
      json,
      JSON.stringify({
        message_uuid: EXAMPLE.message_uuid,
        time: EXAMPLE.time,
        category: EXAMPLE.category,
        tenant: EXAMPLE.tenant,
        user: 'test',
        format_version: '',
        org_id: EXAMPLE.org_id,
        space_id: EXAMPLE.space_id,
        app_or_service_id: EXAMPLE.app_or_service_id,
        als_service_id: EXAMPLE.als_service_id,
        message: EXAMPLE.message,
        resource: { 'sap.auditlog.system_id': 'prod-eu10' },
      }),
    );
    const input = spoolInputOfRetrieved(r.record, r.timeMs, 1);
    assert.equal(input.eventName, RETRIEVED_EVENT_NAME);
    assert.equal(input.uuid, EXAMPLE.message_uuid);
    assert.deepEqual(input.splunk, { source: 'prod-eu10' });
    assert.equal(input.json, json);
  });

  it('hold message as an object when SAP sends it as JSON text', () => {
    const r = toRetrieved({ ...EXAMPLE, message: JSON.stringify(EXAMPLE.message) }, 's')!;
    assert.deepEqual(r.record.message, EXAMPLE.message);
    assert.equal(r.unparsedMessage, false);
  });

  it('keep a message that is not a JSON object as text, and say so', () => {
    const r = toRetrieved({ ...EXAMPLE, message: 'plain text, not JSON' }, 's')!;
    assert.deepEqual(r.record.message, { unparsed_message: 'plain text, not JSON' });
    assert.equal(r.unparsedMessage, true);
    assert.deepEqual(toRetrieved({ ...EXAMPLE, message: '[1,2]' }, 's')!.record.message, { unparsed_message: '[1,2]' });
  });

  it('copy the success of a transactional message to the local record', () => {
    const r = toRetrieved(
      { ...EXAMPLE, category: 'audit.data-modification', message: { ...EXAMPLE.message, success: false } },
      's',
    )!;
    assert.equal(r.record.success, false);
    assert.equal(toRetrieved(EXAMPLE, 's')!.record.success, undefined);
  });

  it('fall back to the message uuid, then to a stable uuid derived from the record', () => {
    const { message_uuid: _, ...noUuid } = EXAMPLE;
    assert.equal(toRetrieved(noUuid, 's')!.record.message_uuid, EXAMPLE.message_uuid);
    const bare = { time: EXAMPLE.time, category: 'audit.configuration', message: { user: 'x' } };
    const a = toRetrieved(bare, 's')!.record.message_uuid;
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(toRetrieved({ ...bare }, 's')!.record.message_uuid, a, 'the same record gets the same uuid');
  });

  it('are refused only when they are not JSON objects', () => {
    for (const bad of [null, 'x', 3, [EXAMPLE]]) assert.equal(toRetrieved(bad, 's'), undefined);
    const minimal = toRetrieved({}, 's')!;
    assert.equal(minimal.record.time, '');
    assert.ok(Number.isNaN(minimal.timeMs));
  });
});
