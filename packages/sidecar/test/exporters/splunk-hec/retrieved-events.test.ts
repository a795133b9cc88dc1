import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBuilder, encodeEvents } from '../../../src/exporters/splunk-hec/events.js';
import { SYSTEM_ID_ATTRIBUTE, type RetrievedRecord } from '../../../src/model/local-record.js';
import { spoolInputOfRetrieved, type SpooledRecord } from '../../../src/model/spooled-record.js';
import { spooledRecord } from './records.js';

function retrievedRecord(): SpooledRecord {
  const record: RetrievedRecord = {
    message_uuid: '22222222-2222-4222-8222-222222222201',
    time: '2026-11-21T10:00:00.239Z',
    category: 'audit.security-events',
    tenant: 'zone-1',
    user: 'test',
    format_version: '',
    org_id: 'org-1',
    space_id: 'space-1',
    message: { uuid: '22222222-2222-4222-8222-222222222201', data: 'login' },
    resource: { [SYSTEM_ID_ATTRIBUTE]: 'prod-eu10' },
  };
  const input = spoolInputOfRetrieved(record, Date.parse(record.time), 0);
  const jsonBytes = Buffer.from(input.json);
  return { ...input, seq: 1, jsonBytes };
}

function event(builder: EventBuilder, r: SpooledRecord): Record<string, unknown> {
  return JSON.parse(encodeEvents([builder.build(r, 0)]).toString()) as Record<string, unknown>;
}

describe('splunk_hec events of records retrieved from SAP', () => {
  it('take the system id as source unless the config sets one; time and event from the record', () => {
    const r = retrievedRecord();
    const e = event(new EventBuilder({ sourcetype: 'sap:auditlog', index: 'audit' }, []), r);
    assert.equal(e['source'], 'prod-eu10');
    assert.equal(e['time'], 1795255200.239);
    assert.deepEqual(e['event'], JSON.parse(r.json));
    assert.equal(event(new EventBuilder({ source: 'btp' }, []), r)['source'], 'btp');
  });

  it('leave the precedence of our own records alone: their com.splunk.source wins over the config', () => {
    const ours = spooledRecord({ splunk: { source: 'from-record' } });
    assert.equal(event(new EventBuilder({ source: 'btp' }, []), ours)['source'], 'from-record');
  });

  it('offer the API fields as indexed fields', () => {
    const e = event(
      new EventBuilder({}, ['org_id', 'space_id', 'event_name', 'resource.sap.auditlog.system_id']),
      retrievedRecord(),
    );
    assert.deepEqual(e['fields'], {
      org_id: 'org-1',
      space_id: 'space-1',
      event_name: 'sap.auditlog.retrieved',
      'resource.sap.auditlog.system_id': 'prod-eu10',
    });
  });
});
