import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuditValidationError,
  ChangeAttribute,
  ConfigurationChangeEvent,
  ConfigurationDeletionEvent,
  DataAccessAttribute,
  DataAccessEvent,
  DataDeletionEvent,
  DataModificationEvent,
  DeletedAttribute,
  SecurityEvent,
  SecurityEventAttribute,
  Tenant,
} from '../src/index.js';

const TIME = new Date('2026-11-21T10:00:00.000Z');
const UUID = '8c7a3b3e-6f3c-4b9a-9d51-2f7f0b1c2d3e';

function validationError(fn: () => void): AuditValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AuditValidationError, String(err));
    return err;
  }
  assert.fail('expected an AuditValidationError');
}

describe('event → SAP message (what the sidecar will send)', () => {
  it('SecurityEvent', () => {
    const e = new SecurityEvent({
      uuid: UUID,
      time: TIME,
      data: '3 unsuccessful login attempts',
      ip: '127.0.0.1',
      user: 'john.doe',
      identityProvider: 'ias',
      attributes: [new SecurityEventAttribute('login.method', 'password')],
      success: false,
    });
    assert.equal(
      JSON.stringify(e.toSapMessage()),
      JSON.stringify({
        uuid: UUID,
        user: 'john.doe',
        time: '2026-11-21T10:00:00.000Z',
        tenant: '$PROVIDER',
        data: '3 unsuccessful login attempts',
        ip: '127.0.0.1',
        identityProvider: 'ias',
        attributes: [{ name: 'login.method', value: 'password' }],
      }),
    );
  });

  it('DataAccessEvent', () => {
    const e = new DataAccessEvent({
      uuid: UUID,
      time: TIME,
      objectType: 'online system',
      objectId: { name: 'Students info system' },
      subjectType: 'student',
      subjectId: { student_id: 'st_123' },
      subjectRole: 'foreign student',
      attributes: [new DataAccessAttribute('date-of-birth', true), new DataAccessAttribute('address')],
      attachments: [{ id: 'recommendations-4381', name: 'file.doc' }],
      channel: 'UI',
      tenant: Tenant.SUBSCRIBER,
      tenantSubdomain: 'customer-a',
    });
    assert.deepEqual(e.toSapMessage(), {
      uuid: UUID,
      user: '$USER',
      time: '2026-11-21T10:00:00.000Z',
      tenant: '$SUBSCRIBER',
      attributes: [{ name: 'date-of-birth', successful: true }, { name: 'address' }],
      object: { type: 'online system', id: { name: 'Students info system' } },
      data_subject: { type: 'student', role: 'foreign student', id: { student_id: 'st_123' } },
      channel: 'UI',
      attachments: [{ id: 'recommendations-4381', name: 'file.doc' }],
    });
  });

  it('DataModificationEvent, with success=false for a failed change', () => {
    const e = new DataModificationEvent({
      uuid: UUID,
      time: TIME,
      objectType: 'online system',
      objectId: { name: 'Students info system' },
      subjectType: 'student',
      subjectId: { student_id: 'st_123' },
      attributes: [new ChangeAttribute('town', 'London', 'Birmingham'), new ChangeAttribute('phone', '+44 1')],
      success: false,
    });
    assert.deepEqual(e.toSapMessage(), {
      uuid: UUID,
      user: '$USER',
      time: '2026-11-21T10:00:00.000Z',
      tenant: '$PROVIDER',
      attributes: [
        { name: 'town', old: 'Birmingham', new: 'London' },
        { name: 'phone', new: '+44 1' },
      ],
      object: { type: 'online system', id: { name: 'Students info system' } },
      data_subject: { type: 'student', id: { student_id: 'st_123' } },
      success: false,
    });
  });

  it('DataDeletionEvent goes to data-modifications with only old values', () => {
    const e = new DataDeletionEvent({
      uuid: UUID,
      time: TIME,
      objectType: 'customer',
      objectId: { id: '4711' },
      subjectType: 'customer',
      subjectId: { id: '4711' },
      attributes: [new DeletedAttribute('email', 'a@example.com'), new DeletedAttribute('phone')],
    });
    assert.deepEqual((e.toSapMessage() as { attributes: unknown }).attributes, [
      { name: 'email', old: 'a@example.com' },
      { name: 'phone' },
    ]);
  });

  it('ConfigurationChangeEvent and ConfigurationDeletionEvent', () => {
    const change = new ConfigurationChangeEvent({
      uuid: UUID,
      time: TIME,
      objectType: 'tenant settings',
      objectId: { configuration: 'global-config' },
      attributes: [new ChangeAttribute('session timeout', '25', '5')],
      id: '1A5511ED-4730-49C9-A5FC-83BB63CA4B88',
      success: true,
      customDetails: { ticket: 'CHG-1', reviewers: ['a', 'b'] },
    });
    assert.deepEqual(change.toSapMessage(), {
      uuid: UUID,
      user: '$USER',
      time: '2026-11-21T10:00:00.000Z',
      tenant: '$PROVIDER',
      attributes: [{ name: 'session timeout', old: '5', new: '25' }],
      object: { type: 'tenant settings', id: { configuration: 'global-config' } },
      id: '1A5511ED-4730-49C9-A5FC-83BB63CA4B88',
      success: true,
      customDetails: { ticket: 'CHG-1', reviewers: ['a', 'b'] },
    });
    const deletion = new ConfigurationDeletionEvent({
      uuid: UUID,
      time: TIME,
      objectType: 'tenant settings',
      objectId: { configuration: 'global-config' },
      attributes: [new DeletedAttribute('session timeout', '25')],
    });
    assert.deepEqual((deletion.toSapMessage() as { attributes: unknown }).attributes, [
      { name: 'session timeout', old: '25' },
    ]);
  });
});

describe('validation names the SDK field', () => {
  it('reports missing and invalid fields by their event field names', () => {
    const e = validationError(() =>
      new DataAccessEvent({
        objectType: ' ',
        objectId: {},
        subjectType: 'customer',
        subjectId: { id: '1' },
        attributes: [],
      }).validate(),
    );
    assert.equal(e.field, 'objectType');
    assert.deepEqual(
      e.issues.map((i) => i.field),
      ['objectType', 'attributes', 'objectId'],
    );
    assert.match(e.message, /objectType: must not be blank/);
  });

  it('names attribute entries by index', () => {
    const e = validationError(() =>
      new SecurityEvent({
        data: 'x',
        attributes: [new SecurityEventAttribute('a', 'ok'), new SecurityEventAttribute('b', '')],
      }).validate(),
    );
    assert.deepEqual(e.issues, [{ field: 'attributes[1].value', message: 'must not be blank' }]);
  });

  it('rejects a bad IP, a blank data and duplicate attribute names', () => {
    assert.equal(validationError(() => new SecurityEvent({ data: 'x', ip: '1.2.3' }).validate()).field, 'ip');
    assert.equal(validationError(() => new SecurityEvent({ data: '  ' }).validate()).field, 'data');
    const dup = validationError(() =>
      new ConfigurationChangeEvent({
        objectType: 't',
        objectId: { id: '1' },
        attributes: [new ChangeAttribute('a', '1'), new ChangeAttribute('a', '2')],
      }).validate(),
    );
    assert.equal(dup.field, 'attributes[1].name');
  });

  it('rejects a uuid that is not a UUID and an invalid time', () => {
    assert.equal(validationError(() => new SecurityEvent({ data: 'x', uuid: 'abc' }).validate()).field, 'uuid');
    assert.equal(validationError(() => new SecurityEvent({ data: 'x', time: Number.NaN }).validate()).field, 'time');
  });
});

describe('the OTel log record an event becomes', () => {
  it('uses EventName, INFO severity and the portable flattened attributes', () => {
    const e = new DataModificationEvent({
      uuid: UUID,
      time: TIME,
      user: 'jane',
      objectType: 'customer',
      objectId: { id: '4711', 'region.code': 'eu' },
      subjectType: 'customer',
      subjectId: { id: '4711' },
      attributes: [new ChangeAttribute('e.mail', 'new@example.com', 'old@example.com')],
      customDetails: { reason: 'support ticket' },
    });
    const r = e.toLogRecord();
    assert.equal(r.eventName, 'audit.data_modification');
    assert.equal(r.severityNumber, 9);
    assert.deepEqual(r.timestamp, TIME);
    assert.deepEqual(r.attributes, {
      'log.record.uid': UUID,
      'user.id': 'jane',
      'audit.tenant': '$PROVIDER',
      'audit.object.type': 'customer',
      'audit.object.id.id': '4711',
      'audit.object.id.region.code': 'eu',
      'audit.data_subject.type': 'customer',
      'audit.data_subject.id.id': '4711',
      'audit.attribute.names': ['e.mail'],
      'audit.attribute.e.mail.old': 'old@example.com',
      'audit.attribute.e.mail.new': 'new@example.com',
      'audit.custom.reason': 'support ticket',
    });
  });

  it('uses the structured form for non-string custom details', () => {
    const r = new SecurityEvent({ data: 'x', customDetails: { attempts: 3, source: { app: 'web' } } }).toLogRecord();
    assert.deepEqual(r.attributes?.['audit.custom_details'], { attempts: 3, source: { app: 'web' } });
  });

  it('gives every event a fresh UUID v4 and the current time by default', () => {
    const a = new SecurityEvent({ data: 'x' });
    const b = new SecurityEvent({ data: 'x' });
    assert.match(a.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a.uuid, b.uuid);
    assert.ok(Math.abs(a.time.getTime() - Date.now()) < 5000);
  });
});
