import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditEventName, formatIssues, mapAuditRecord, type AuditMappingResult } from '../src/index.js';
import { kv, toAnyValue, type Plain } from './helpers.js';

const TIME = '2023-06-30T00:00:00.000Z';

function map(eventName: string, attributes: Record<string, Plain>, body: Plain = null): AuditMappingResult {
  return mapAuditRecord({ eventName, body: toAnyValue(body), time: TIME, attributes: kv(attributes) });
}

function ok(result: AuditMappingResult): Extract<AuditMappingResult, { ok: true }> {
  if (!result.ok) assert.fail(`expected success, got: ${formatIssues(result.issues)}`);
  return result;
}

function issuesOf(result: AuditMappingResult): string[] {
  assert.equal(result.ok, false, 'expected rejection');
  return result.ok ? [] : result.issues.map((i) => `${i.field}: ${i.message}`);
}

describe('security events (SAP write API example)', () => {
  it('maps the documented example to the exact body', () => {
    const r = ok(
      map(
        AuditEventName.SecurityEvent,
        { 'log.record.uid': 'E2B74CFF-C7C2-4A78-BF6A-337E3431884E', 'user.id': '$USER', 'client.address': '127.0.0.1' },
        'Demo security event message.',
      ),
    );
    assert.equal(
      JSON.stringify(r.message),
      '{"uuid":"E2B74CFF-C7C2-4A78-BF6A-337E3431884E","user":"$USER","time":"2023-06-30T00:00:00.000Z",' +
        '"tenant":"$PROVIDER","data":"Demo security event message.","ip":"127.0.0.1"}',
    );
    assert.equal(r.type.sapEndpoint, 'security-events');
    assert.equal(r.type.sapCategory, 'audit.security-events');
  });

  it('keeps success out of the SAP body but reports it', () => {
    const r = ok(
      map(
        AuditEventName.SecurityEvent,
        { 'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11', 'audit.success': false },
        'login failed',
      ),
    );
    assert.equal(r.success, false);
    assert.equal('success' in r.message, false);
  });

  it('maps name/value attributes in the order of audit.attribute.names', () => {
    const r = ok(
      map(
        AuditEventName.SecurityEvent,
        {
          'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11',
          'audit.attribute.names': ['reason', 'login.method'],
          'audit.attribute.login.method.value': 'password',
          'audit.attribute.reason.value': 'bad password',
          'audit.identity_provider': 'ias',
        },
        'login failed',
      ),
    );
    assert.deepEqual(r.message, {
      uuid: '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11',
      user: '$USER',
      time: TIME,
      tenant: '$PROVIDER',
      data: 'login failed',
      identityProvider: 'ias',
      attributes: [
        { name: 'reason', value: 'bad password' },
        { name: 'login.method', value: 'password' },
      ],
    });
  });

  it('stringifies a structured body into data', () => {
    const r = ok(
      map(AuditEventName.SecurityEvent, { 'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11' }, { attempts: 3 }),
    );
    assert.equal((r.message as { data: string }).data, '{"attempts":3}');
  });

  it('rejects a bad IP, a blank body and a value without a name', () => {
    const issues = issuesOf(
      map(
        AuditEventName.SecurityEvent,
        {
          'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11',
          'client.address': '300.1.1.1',
          'audit.attribute.names': ['a'],
          'audit.attribute.a.value': 'x',
          'audit.attribute.b.value': 'y',
        },
        '  ',
      ),
    );
    assert.deepEqual(issues.sort(), [
      'audit.attribute.b.value: attribute "b" is not listed in audit.attribute.names',
      'body: required for audit.security_event (it is SAP `data`)',
      'client.address: "300.1.1.1" is not a valid IPv4 or IPv6 address',
    ]);
  });

  it('accepts IPv6', () => {
    ok(
      map(
        AuditEventName.SecurityEvent,
        { 'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11', 'client.address': '2001:db8::1' },
        'x',
      ),
    );
  });
});

describe('configuration changes', () => {
  it('maps the documented example (flattened form)', () => {
    const r = ok(
      map(AuditEventName.ConfigurationChange, {
        'log.record.uid': '57DF4DFB-2352-4330-8E3C-027ABB02037C',
        'user.id': 'test-als-user@sap.com',
        'audit.message.id': '1A5511ED-4730-49C9-A5FC-83BB63CA4B88',
        'audit.object.type': 'name of an attribute',
        'audit.object.id.key1': 'value1',
        'audit.object.id.key2': 'value2',
        'audit.attribute.names': ['cfg attribute 1'],
        'audit.attribute.cfg attribute 1.old': 'old cfg attribute 1 value',
        'audit.attribute.cfg attribute 1.new': 'new cfg attribute 1 value',
        'audit.custom.customKey': 'customValue',
      }),
    );
    assert.equal(
      JSON.stringify(r.message),
      JSON.stringify({
        uuid: '57DF4DFB-2352-4330-8E3C-027ABB02037C',
        user: 'test-als-user@sap.com',
        time: TIME,
        tenant: '$PROVIDER',
        attributes: [{ name: 'cfg attribute 1', old: 'old cfg attribute 1 value', new: 'new cfg attribute 1 value' }],
        object: { type: 'name of an attribute', id: { key1: 'value1', key2: 'value2' } },
        id: '1A5511ED-4730-49C9-A5FC-83BB63CA4B88',
        customDetails: { customKey: 'customValue' },
      }),
    );
    assert.equal(r.type.sapEndpoint, 'configuration-changes');
  });

  it('sends success for a transactional type', () => {
    const r = ok(
      map(AuditEventName.ConfigurationChange, {
        'log.record.uid': '57df4dfb-2352-4330-8e3c-027abb02037c',
        'audit.success': true,
        'audit.object.type': 'cfg',
        'audit.object.id.name': 'global',
        'audit.attribute.names': ['timeout'],
        'audit.attribute.timeout.new': '25',
      }),
    );
    assert.equal((r.message as { success?: boolean }).success, true);
  });

  it('requires new values and forbids data subjects', () => {
    const issues = issuesOf(
      map(AuditEventName.ConfigurationChange, {
        'log.record.uid': '57df4dfb-2352-4330-8e3c-027abb02037c',
        'audit.object.type': 'cfg',
        'audit.object.id.name': 'global',
        'audit.attribute.names': ['timeout'],
        'audit.attribute.timeout.old': '5',
        'audit.data_subject.type': 'user',
      }),
    );
    assert.deepEqual(issues.sort(), [
      'audit.attribute.timeout.new: required for audit.configuration_change',
      'audit.data_subject.type: not used by audit.configuration_change',
    ]);
  });

  it('configuration deletion carries only old', () => {
    const r = ok(
      map(AuditEventName.ConfigurationDeletion, {
        'log.record.uid': '57df4dfb-2352-4330-8e3c-027abb02037c',
        'audit.object.type': 'cfg',
        'audit.object.id.name': 'global',
        'audit.attribute.names': ['timeout'],
        'audit.attribute.timeout.old': '5',
      }),
    );
    assert.deepEqual((r.message as { attributes: unknown }).attributes, [{ name: 'timeout', old: '5' }]);
    assert.equal(r.type.sapEndpoint, 'configuration-changes');
    const issues = issuesOf(
      map(AuditEventName.ConfigurationDeletion, {
        'log.record.uid': '57df4dfb-2352-4330-8e3c-027abb02037c',
        'audit.object.type': 'cfg',
        'audit.object.id.name': 'global',
        'audit.attribute.names': ['timeout'],
        'audit.attribute.timeout.new': '5',
      }),
    );
    assert.deepEqual(issues, ['audit.attribute.timeout.new: not used by audit.configuration_deletion (allowed: old)']);
  });
});

describe('data access', () => {
  const base = {
    'log.record.uid': '48235F10-4F67-4621-8919-D0E2F7DBB81D',
    'user.id': 'some-user-id',
    'audit.identity_provider': '$IDP',
    'audit.object.type': 'online system',
    'audit.object.id.name': 'Students info system',
    'audit.object.id.module': 'Admin module',
    'audit.data_subject.type': 'student',
    'audit.data_subject.role': 'foreign student',
    'audit.data_subject.id.student_id': '12345678',
    'audit.attribute.names': ['name of attribute 1', 'name of attribute 2'],
    'audit.attribute.name of attribute 2.successful': true,
    'audit.attachment.ids': ['someId'],
    'audit.attachment.names': ['attachmentName'],
    'audit.channel': 'UI',
    'audit.custom.customKey': 'customValue',
  };

  it('maps the documented example', () => {
    const r = ok(map(AuditEventName.DataAccess, base));
    assert.equal(
      JSON.stringify(r.message),
      JSON.stringify({
        uuid: '48235F10-4F67-4621-8919-D0E2F7DBB81D',
        user: 'some-user-id',
        time: TIME,
        tenant: '$PROVIDER',
        identityProvider: '$IDP',
        attributes: [{ name: 'name of attribute 1' }, { name: 'name of attribute 2', successful: true }],
        object: { type: 'online system', id: { name: 'Students info system', module: 'Admin module' } },
        data_subject: { type: 'student', role: 'foreign student', id: { student_id: '12345678' } },
        channel: 'UI',
        attachments: [{ id: 'someId', name: 'attachmentName' }],
        customDetails: { customKey: 'customValue' },
      }),
    );
    assert.equal(r.type.sapEndpoint, 'data-accesses');
  });

  it('maps the structured form to the same message', () => {
    const structured: Record<string, Plain> = {
      'log.record.uid': '48235F10-4F67-4621-8919-D0E2F7DBB81D',
      'user.id': 'some-user-id',
      'audit.identity_provider': '$IDP',
      'audit.object.type': 'online system',
      'audit.object.id': { name: 'Students info system', module: 'Admin module' },
      'audit.data_subject.type': 'student',
      'audit.data_subject.role': 'foreign student',
      'audit.data_subject.id': { student_id: '12345678' },
      'audit.attributes': [{ name: 'name of attribute 1' }, { name: 'name of attribute 2', successful: true }],
      'audit.attachment.ids': ['someId'],
      'audit.attachment.names': ['attachmentName'],
      'audit.channel': 'UI',
      'audit.custom_details': { customKey: 'customValue' },
    };
    assert.equal(
      JSON.stringify(ok(map(AuditEventName.DataAccess, structured)).message),
      JSON.stringify(ok(map(AuditEventName.DataAccess, base)).message),
    );
  });

  it('maps several data subjects', () => {
    const r = ok(
      map(AuditEventName.DataAccess, {
        'log.record.uid': '48235f10-4f67-4621-8919-d0e2f7dbb81d',
        'audit.object.type': 'report',
        'audit.object.id.id': 'r1',
        'audit.attribute.names': ['salary'],
        'audit.data_subjects': [
          { type: 'employee', id: { id: 'e1' } },
          { type: 'employee', role: 'manager', id: { id: 'e2' } },
        ],
      }),
    );
    assert.deepEqual((r.message as { data_subjects: unknown }).data_subjects, [
      { type: 'employee', id: { id: 'e1' } },
      { type: 'employee', role: 'manager', id: { id: 'e2' } },
    ]);
  });

  it('rejects a record without object type, attributes or data subject', () => {
    const issues = issuesOf(
      map(AuditEventName.DataAccess, { 'log.record.uid': '48235f10-4f67-4621-8919-d0e2f7dbb81d' }),
    );
    assert.deepEqual(issues.sort(), [
      'audit.attribute.names: at least one attribute is required for audit.data_access',
      'audit.data_subject.id: at least one key is required (audit.data_subject.id.<key>)',
      'audit.data_subject.type: required (or give audit.data_subjects)',
      'audit.object.id: at least one key is required for audit.data_access (audit.object.id.<key>)',
      'audit.object.type: required for audit.data_access',
    ]);
  });

  it('rejects duplicate attribute names, wrong types and mismatched attachments', () => {
    const issues = issuesOf(
      map(AuditEventName.DataAccess, {
        ...base,
        'audit.attribute.names': ['a', 'b', 'a'],
        'audit.attribute.a.successful': 'yes',
        'audit.attachment.names': ['x', 'y'],
        'audit.success': 'true',
      }),
    );
    assert.deepEqual(issues.sort(), [
      'audit.attachment.names: has 2 entries but audit.attachment.ids has 1',
      'audit.attribute.a.successful: must be a bool, got string',
      'audit.attribute.name of attribute 2.successful: attribute "name of attribute 2" is not listed in audit.attribute.names',
      'audit.attribute.names[2]: duplicate attribute name "a"',
      'audit.success: must be a bool, got string',
    ]);
  });
});

describe('data modification and deletion', () => {
  const base = {
    'log.record.uid': 'E5132C63-E5E6-4DF3-A59A-35861E1A145D',
    'user.id': '$USER',
    'audit.object.type': 'DEMO Instance',
    'audit.object.id.serviceInstanceId': 'A2482034-B91D-4D0F-96BA-275C3255C983',
    'audit.data_subject.type': 'credentials',
    'audit.data_subject.role': 'authentication',
    'audit.data_subject.id.key1': 'value1',
    'audit.attribute.names': ['old attribute'],
    'audit.attribute.old attribute.new': 'new attribute',
    'audit.message.id': 'A0FD7483-A4B3-498D-83D7-2F5A518E53F2',
  };

  it('maps the documented example', () => {
    const r = ok(map(AuditEventName.DataModification, base));
    assert.equal(
      JSON.stringify(r.message),
      JSON.stringify({
        uuid: 'E5132C63-E5E6-4DF3-A59A-35861E1A145D',
        user: '$USER',
        time: TIME,
        tenant: '$PROVIDER',
        attributes: [{ name: 'old attribute', new: 'new attribute' }],
        object: { type: 'DEMO Instance', id: { serviceInstanceId: 'A2482034-B91D-4D0F-96BA-275C3255C983' } },
        data_subject: { type: 'credentials', role: 'authentication', id: { key1: 'value1' } },
        id: 'A0FD7483-A4B3-498D-83D7-2F5A518E53F2',
      }),
    );
    assert.equal(r.type.sapEndpoint, 'data-modifications');
  });

  it('takes an attribute named without values (changed, values not logged), next to one with them', () => {
    const { 'audit.attribute.old attribute.new': _dropped, ...rest } = base;
    const r = ok(
      map(AuditEventName.DataModification, {
        ...rest,
        'audit.attribute.names': ['password', 'town'],
        'audit.attribute.town.old': 'Birmingham',
        'audit.attribute.town.new': 'London',
      }),
    );
    assert.deepEqual((r.message as { attributes: unknown }).attributes, [
      { name: 'password' },
      { name: 'town', old: 'Birmingham', new: 'London' },
    ]);
  });

  it('logs a failed modification with success=false', () => {
    const r = ok(map(AuditEventName.DataModification, { ...base, 'audit.success': false }));
    assert.equal((r.message as { success?: boolean }).success, false);
    assert.equal(r.success, false);
  });

  it('maps a deletion to data-modifications with only old values', () => {
    const r = ok(
      map(AuditEventName.DataDeletion, {
        ...Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('audit.attribute.'))),
        'audit.attribute.names': ['email'],
        'audit.attribute.email.old': 'a@b.c',
      }),
    );
    assert.deepEqual((r.message as { attributes: unknown }).attributes, [{ name: 'email', old: 'a@b.c' }]);
    assert.equal(r.type.sapEndpoint, 'data-modifications');
    assert.equal(r.type.sapCategory, 'audit.data-modification');
  });

  it('requires a data subject', () => {
    const { 'audit.data_subject.type': _t, 'audit.data_subject.id.key1': _k, ...noSubject } = base;
    const issues = issuesOf(map(AuditEventName.DataModification, noSubject));
    assert.deepEqual(issues.sort(), [
      'audit.data_subject.id: at least one key is required (audit.data_subject.id.<key>)',
      'audit.data_subject.type: required (or give audit.data_subjects)',
    ]);
  });
});

describe('common rules', () => {
  it('derives a uuid only when none is given, and validates a given one', () => {
    const derived = mapAuditRecord({
      eventName: AuditEventName.SecurityEvent,
      body: 'x',
      time: TIME,
      attributes: [],
      deriveUuid: () => '11111111-2222-5333-8444-555555555555',
    });
    assert.equal(ok(derived).uuid, '11111111-2222-5333-8444-555555555555');
    assert.deepEqual(issuesOf(map(AuditEventName.SecurityEvent, {}, 'x')), ['log.record.uid: required']);
    assert.deepEqual(issuesOf(map(AuditEventName.SecurityEvent, { 'log.record.uid': 'not-a-uuid' }, 'x')), [
      'log.record.uid: "not-a-uuid" is not a UUID',
    ]);
  });

  it('rejects unknown audit attributes and unknown event names', () => {
    assert.deepEqual(
      issuesOf(
        map(
          AuditEventName.SecurityEvent,
          { 'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11', 'audit.objct.type': 'x' },
          'x',
        ),
      ),
      ['audit.objct.type: unknown audit attribute'],
    );
    assert.deepEqual(issuesOf(map('audit.login', { 'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11' }, 'x')), [
      'EventName: unknown audit event "audit.login"',
    ]);
  });

  it('ignores non-audit attributes and honours tenant and user', () => {
    const r = ok(
      map(
        AuditEventName.SecurityEvent,
        {
          'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11',
          'code.function': 'login',
          'audit.tenant': '$SUBSCRIBER',
          'audit.tenant.subdomain': 'customer-a',
          'user.id': 'jane',
        },
        'x',
      ),
    );
    assert.equal(r.message.tenant, '$SUBSCRIBER');
    assert.equal(r.message.user, 'jane');
    assert.equal(r.tenantSubdomain, 'customer-a');
  });

  it('refuses a tenant subdomain that is not one DNS label (it becomes part of the token host)', () => {
    for (const bad of ['attacker.example#', 'localhost/', 'a.b', 'x?y', '-a', 'a'.repeat(64)]) {
      const issues = issuesOf(
        map(
          AuditEventName.SecurityEvent,
          { 'log.record.uid': '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11', 'audit.tenant.subdomain': bad },
          'x',
        ),
      );
      assert.deepEqual(
        issues,
        ['audit.tenant.subdomain: must be a subdomain: letters, digits and "-", at most 63 characters'],
        bad,
      );
    }
  });

  it('reports an attribute given twice', () => {
    const issues = issuesOf(
      mapAuditRecord({
        eventName: AuditEventName.SecurityEvent,
        body: 'x',
        time: TIME,
        attributes: [
          { key: 'log.record.uid', value: '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11' },
          { key: 'user.id', value: 'a' },
          { key: 'user.id', value: 'b' },
        ],
      }),
    );
    assert.deepEqual(issues, ['user.id: given more than once']);
  });

  it('rejects wrong value types naming the field', () => {
    const issues = issuesOf(
      map(AuditEventName.DataAccess, {
        'log.record.uid': '48235f10-4f67-4621-8919-d0e2f7dbb81d',
        'audit.object.type': 42,
        'audit.object.id.id': true,
        'audit.data_subject.type': 'x',
        'audit.data_subject.id.id': 'y',
        'audit.attribute.names': 'salary',
      }),
    );
    assert.deepEqual(issues.sort(), [
      'audit.attribute.names: at least one attribute is required for audit.data_access',
      'audit.attribute.names: must be an array of strings, got string',
      'audit.object.id.id: must be a string, got bool',
      'audit.object.id: at least one key is required for audit.data_access (audit.object.id.<key>)',
      'audit.object.type: must be a string, got double',
    ]);
  });

  it('rejects mixing the flattened and structured attribute forms, in either order', () => {
    const base = {
      'log.record.uid': '48235f10-4f67-4621-8919-d0e2f7dbb81d',
      'audit.object.type': 'report',
      'audit.object.id.id': 'r1',
      'audit.data_subject.type': 'employee',
      'audit.data_subject.id.id': 'e1',
    };
    const flatFirst = issuesOf(
      map(AuditEventName.DataAccess, { ...base, 'audit.attribute.names': ['a'], 'audit.attributes': [{ name: 'b' }] }),
    );
    assert.ok(
      flatFirst.some((i) => i.startsWith('audit.attributes: use either audit.attributes or audit.attribute.names')),
    );
    const structuredFirst = issuesOf(
      map(AuditEventName.DataAccess, {
        ...base,
        'audit.attributes': [{ name: 'b' }],
        'audit.attribute.a.successful': true,
      }),
    );
    assert.ok(structuredFirst.some((i) => i.startsWith('audit.attributes: use either')));
  });

  it('names a blank structured attribute name by its item index', () => {
    const issues = issuesOf(
      map(AuditEventName.DataAccess, {
        'log.record.uid': '48235f10-4f67-4621-8919-d0e2f7dbb81d',
        'audit.object.type': 'report',
        'audit.object.id.id': 'r1',
        'audit.data_subject.type': 'employee',
        'audit.data_subject.id.id': 'e1',
        'audit.attributes': [{ name: 'ok' }, { name: ' ' }, { name: '' }],
      }),
    );
    assert.deepEqual(issues, [
      'audit.attributes[1].name: must not be blank',
      'audit.attributes[2].name: must not be blank',
    ]);
  });

  it('reports each problem once', () => {
    const issues = issuesOf(
      map(AuditEventName.ConfigurationChange, {
        'log.record.uid': '57df4dfb-2352-4330-8e3c-027abb02037c',
        'audit.object.type': 'cfg',
        'audit.object.id.a': '1',
        'audit.object.id.b': '2',
        'audit.attribute.names': ['x', 'x'],
        'audit.data_subject.id.a': '1',
        'audit.data_subject.id.b': '2',
      }),
    );
    assert.deepEqual(issues.sort(), [
      'audit.attribute.names[1]: duplicate attribute name "x"',
      'audit.attribute.x.new: required for audit.configuration_change',
      'audit.data_subject.id: not used by audit.configuration_change',
    ]);
  });

  it('rejects a blank data subject role', () => {
    const issues = issuesOf(
      map(AuditEventName.DataAccess, {
        'log.record.uid': '48235f10-4f67-4621-8919-d0e2f7dbb81d',
        'audit.object.type': 'report',
        'audit.object.id.id': 'r1',
        'audit.data_subject.type': 'employee',
        'audit.data_subject.role': '',
        'audit.data_subject.id.id': 'e1',
        'audit.attribute.names': ['salary'],
      }),
    );
    assert.deepEqual(issues, ['audit.data_subject.role: must not be blank']);
  });
});
