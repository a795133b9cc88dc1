import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIT_EVENT_TYPES, AuditEventName, auditEventType } from '../src/index.js';
import { EVENT_KINDS } from '../src/event-types.js';

const T = { timeout: 5_000 };

describe('the rule table', () => {
  it('lists the six event names in table order (the order of the docs)', T, () => {
    assert.deepEqual(Object.keys(AUDIT_EVENT_TYPES), [
      AuditEventName.SecurityEvent,
      AuditEventName.DataAccess,
      AuditEventName.DataModification,
      AuditEventName.DataDeletion,
      AuditEventName.ConfigurationChange,
      AuditEventName.ConfigurationDeletion,
    ]);
  });

  it('finds each row by its name and by its kind', T, () => {
    for (const [kind, row] of Object.entries(EVENT_KINDS)) {
      assert.equal(row.kind, kind);
      assert.equal(auditEventType(row.name), row);
      assert.equal(AUDIT_EVENT_TYPES[row.name], row);
    }
  });

  it('knows no other names, inherited ones included', T, () => {
    for (const name of ['audit.login', 'constructor', 'toString', '__proto__', '']) {
      assert.equal(auditEventType(name), undefined, name);
    }
  });

  it('requires only entry suffixes it accepts', T, () => {
    for (const row of Object.values(EVENT_KINDS)) {
      for (const suffix of row.entries.required)
        assert.ok(row.entries.allowed.includes(suffix), `${row.name} ${suffix}`);
    }
  });

  it('cannot be changed at run time', T, () => {
    const row = EVENT_KINDS['data-deletion'];
    assert.ok(Object.isFrozen(EVENT_KINDS) && Object.isFrozen(row) && Object.isFrozen(row.entries));
    assert.ok(Object.isFrozen(row.entries.allowed) && Object.isFrozen(AUDIT_EVENT_TYPES));
  });
});
