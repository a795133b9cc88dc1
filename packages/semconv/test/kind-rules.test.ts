/**
 * Every event kind × every per-kind rule, positive and negative. The expectations are written out
 * here (from the product contract), not read from the rule table, so a wrong table fails this test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditEventName, formatIssues, mapAuditRecord, type AuditMappingResult } from '../src/index.js';
import { kv, toAnyValue, type Plain } from './helpers.js';

const T = { timeout: 5_000 };
const TIME = '2026-11-21T10:00:00.000Z';
const UUID = '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11';

const KINDS = [
  AuditEventName.SecurityEvent,
  AuditEventName.DataAccess,
  AuditEventName.DataModification,
  AuditEventName.DataDeletion,
  AuditEventName.ConfigurationChange,
  AuditEventName.ConfigurationDeletion,
] as const;

/**
 * R required (and sent), O optional (and sent), L accepted but only kept for the local record,
 * I accepted and ignored, - rejected with "not used by <event>".
 */
type Use = 'R' | 'O' | 'L' | 'I' | '-';
type PerKind<V> = readonly [V, V, V, V, V, V];

type Suffix = 'old' | 'new' | 'successful' | 'value';
/** The order in which the "(allowed: …)" list names suffixes. */
const SUFFIXES: readonly Suffix[] = ['old', 'new', 'successful', 'value'];

/** Per suffix of `audit.attribute.<name>.<suffix>`: its use by each kind, in {@link KINDS} order. */
const ENTRY_USE: Record<Suffix, PerKind<Use>> = {
  value: ['R', '-', '-', '-', '-', '-'],
  successful: ['-', 'O', '-', '-', '-', '-'],
  old: ['-', '-', 'O', 'O', 'O', 'O'],
  // Optional on a data modification: `{ name }` alone says it changed without logging the values.
  new: ['-', '-', 'O', '-', 'R', '-'],
};
const ENTRY_VALUE: Record<Suffix, string | boolean> = { value: 'v', successful: true, old: 'before', new: 'after' };
/** Whether an empty string is a valid value of the suffix. */
const BLANK_OK: Record<Suffix, boolean> = { value: false, successful: false, old: true, new: true };

/** The required fields of attribute "a", in flattened form. */
function requiredEntries(k: number): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const s of SUFFIXES) if (ENTRY_USE[s][k] === 'R') out[`audit.attribute.a.${s}`] = ENTRY_VALUE[s];
  return out;
}

function requiredItem(k: number): Record<string, Plain> {
  const out: Record<string, Plain> = { name: 'a' };
  for (const s of SUFFIXES) if (ENTRY_USE[s][k] === 'R') out[s] = ENTRY_VALUE[s];
  return out;
}

interface KeyRule {
  readonly label: string;
  /** What the test adds to the record (or removes, for a required one). */
  readonly attributes: (k: number) => Record<string, Plain>;
  readonly body?: Plain;
  /** Keys that must come along for the record to be valid where the rule is accepted. */
  readonly needs?: Record<string, Plain>;
  /** Flattened keys of the record this (structured) form stands in for. */
  readonly replaces?: readonly string[];
  /** The field an issue names. */
  readonly field: string;
  /** Where the value lands in the SAP message. */
  readonly sap?: { readonly path: string; readonly value: Plain };
  readonly use: PerKind<Use>;
  /** The issue when a required one is missing. */
  readonly missing?: (event: string) => string;
}

const attrs = (a: Record<string, Plain>) => (): Record<string, Plain> => a;

/** Per attribute (and the body): its use by each kind, in {@link KINDS} order. */
const KEY_RULES: readonly KeyRule[] = [
  {
    label: 'body',
    attributes: attrs({}),
    body: 'something happened',
    field: 'body',
    sap: { path: 'data', value: 'something happened' },
    use: ['R', 'I', 'I', 'I', 'I', 'I'],
    missing: (e) => `required for ${e} (it is SAP \`data\`)`,
  },
  {
    label: 'user.id',
    attributes: attrs({ 'user.id': 'jane' }),
    field: 'user.id',
    sap: { path: 'user', value: 'jane' },
    use: ['O', 'O', 'O', 'O', 'O', 'O'],
  },
  {
    label: 'audit.tenant',
    attributes: attrs({ 'audit.tenant': '$SUBSCRIBER' }),
    field: 'audit.tenant',
    sap: { path: 'tenant', value: '$SUBSCRIBER' },
    use: ['O', 'O', 'O', 'O', 'O', 'O'],
  },
  {
    label: 'audit.tenant.subdomain',
    attributes: attrs({ 'audit.tenant.subdomain': 'customer-a' }),
    field: 'audit.tenant.subdomain',
    use: ['I', 'I', 'I', 'I', 'I', 'I'],
  },
  {
    label: 'audit.custom.<k>',
    attributes: attrs({ 'audit.custom.k': 'c' }),
    field: 'audit.custom.k',
    sap: { path: 'customDetails.k', value: 'c' },
    use: ['O', 'O', 'O', 'O', 'O', 'O'],
  },
  {
    label: 'audit.custom_details (structured)',
    attributes: attrs({ 'audit.custom_details': { k: 'c' } }),
    field: 'audit.custom_details',
    sap: { path: 'customDetails.k', value: 'c' },
    use: ['O', 'O', 'O', 'O', 'O', 'O'],
  },
  {
    label: 'audit.success',
    attributes: attrs({ 'audit.success': true }),
    field: 'audit.success',
    sap: { path: 'success', value: true },
    use: ['L', 'L', 'O', 'O', 'O', 'O'],
  },
  {
    label: 'client.address',
    attributes: attrs({ 'client.address': '192.0.2.1' }),
    field: 'client.address',
    sap: { path: 'ip', value: '192.0.2.1' },
    use: ['O', 'I', 'I', 'I', 'I', 'I'],
  },
  {
    label: 'audit.identity_provider',
    attributes: attrs({ 'audit.identity_provider': 'idp' }),
    field: 'audit.identity_provider',
    sap: { path: 'identityProvider', value: 'idp' },
    use: ['O', 'O', '-', '-', '-', '-'],
  },
  {
    label: 'audit.channel',
    attributes: attrs({ 'audit.channel': 'UI' }),
    field: 'audit.channel',
    sap: { path: 'channel', value: 'UI' },
    use: ['-', 'O', '-', '-', '-', '-'],
  },
  {
    label: 'audit.message.id',
    attributes: attrs({ 'audit.message.id': 'M-1' }),
    field: 'audit.message.id',
    sap: { path: 'id', value: 'M-1' },
    use: ['-', '-', 'O', 'O', 'O', 'O'],
  },
  {
    label: 'audit.attachment.ids',
    attributes: attrs({ 'audit.attachment.ids': ['d1'] }),
    field: 'audit.attachment.ids',
    sap: { path: 'attachments.0.id', value: 'd1' },
    use: ['-', 'O', '-', '-', '-', '-'],
  },
  {
    label: 'audit.attachment.names',
    attributes: attrs({ 'audit.attachment.names': ['contract.pdf'] }),
    needs: { 'audit.attachment.ids': ['d1'] },
    field: 'audit.attachment.names',
    sap: { path: 'attachments.0.name', value: 'contract.pdf' },
    use: ['-', 'O', '-', '-', '-', '-'],
  },
  {
    label: 'audit.object.type',
    attributes: attrs({ 'audit.object.type': 'record' }),
    field: 'audit.object.type',
    sap: { path: 'object.type', value: 'record' },
    use: ['-', 'R', 'R', 'R', 'R', 'R'],
    missing: (e) => `required for ${e}`,
  },
  {
    label: 'audit.object.id.<k>',
    attributes: attrs({ 'audit.object.id.k': 'o1' }),
    field: 'audit.object.id',
    sap: { path: 'object.id.k', value: 'o1' },
    use: ['-', 'R', 'R', 'R', 'R', 'R'],
    missing: (e) => `at least one key is required for ${e} (audit.object.id.<key>)`,
  },
  {
    label: 'audit.object.id (structured)',
    attributes: attrs({ 'audit.object.id': { k: 'o1' } }),
    replaces: ['audit.object.id.k'],
    field: 'audit.object.id',
    sap: { path: 'object.id.k', value: 'o1' },
    use: ['-', 'R', 'R', 'R', 'R', 'R'],
  },
  {
    label: 'audit.data_subject.type',
    attributes: attrs({ 'audit.data_subject.type': 'customer' }),
    field: 'audit.data_subject.type',
    sap: { path: 'data_subject.type', value: 'customer' },
    use: ['-', 'R', 'R', 'R', '-', '-'],
    missing: () => 'required (or give audit.data_subjects)',
  },
  {
    label: 'audit.data_subject.role',
    attributes: attrs({ 'audit.data_subject.role': 'owner' }),
    field: 'audit.data_subject.role',
    sap: { path: 'data_subject.role', value: 'owner' },
    use: ['-', 'O', 'O', 'O', '-', '-'],
  },
  {
    label: 'audit.data_subject.id.<k>',
    attributes: attrs({ 'audit.data_subject.id.k': 's1' }),
    field: 'audit.data_subject.id',
    sap: { path: 'data_subject.id.k', value: 's1' },
    use: ['-', 'R', 'R', 'R', '-', '-'],
    missing: () => 'at least one key is required (audit.data_subject.id.<key>)',
  },
  {
    label: 'audit.data_subject.id (structured)',
    attributes: attrs({ 'audit.data_subject.id': { k: 's1' } }),
    replaces: ['audit.data_subject.id.k'],
    field: 'audit.data_subject.id',
    sap: { path: 'data_subject.id.k', value: 's1' },
    use: ['-', 'R', 'R', 'R', '-', '-'],
  },
  {
    label: 'audit.data_subjects (structured)',
    attributes: attrs({ 'audit.data_subjects': [{ type: 'customer', id: { k: 's1' } }] }),
    replaces: ['audit.data_subject.type', 'audit.data_subject.id.k'],
    field: 'audit.data_subjects',
    sap: { path: 'data_subjects.0.id.k', value: 's1' },
    use: ['-', 'R', 'R', 'R', '-', '-'],
  },
  {
    label: 'audit.attribute.names',
    attributes: (k) => ({ 'audit.attribute.names': ['a'], ...requiredEntries(k) }),
    field: 'audit.attribute.names',
    sap: { path: 'attributes.0.name', value: 'a' },
    use: ['O', 'R', 'R', 'R', 'R', 'R'],
    missing: (e) => `at least one attribute is required for ${e}`,
  },
  {
    label: 'audit.attributes (structured)',
    attributes: (k) => ({ 'audit.attributes': [requiredItem(k)] }),
    replaces: ['audit.attribute.names', ...SUFFIXES.map((s) => `audit.attribute.a.${s}`)],
    field: 'audit.attributes',
    sap: { path: 'attributes.0.name', value: 'a' },
    use: ['O', 'R', 'R', 'R', 'R', 'R'],
  },
];

interface TestRecord {
  attributes: Record<string, Plain>;
  body: Plain;
}

/** A record of kind `k` that has exactly the required fields (flattened form). */
function base(k: number): TestRecord {
  const record: TestRecord = { attributes: { 'log.record.uid': UUID }, body: null };
  for (const rule of KEY_RULES) {
    if (rule.use[k] !== 'R' || rule.replaces !== undefined) continue;
    Object.assign(record.attributes, rule.attributes(k));
    if (rule.body !== undefined) record.body = rule.body;
  }
  return record;
}

function eventOf(k: number): string {
  return KINDS[k] ?? assert.fail(`no kind ${k}`);
}

function map(k: number, r: TestRecord): AuditMappingResult {
  return mapAuditRecord({ eventName: eventOf(k), body: toAnyValue(r.body), time: TIME, attributes: kv(r.attributes) });
}

function accepted(k: number, r: TestRecord): Extract<AuditMappingResult, { ok: true }> {
  const result = map(k, r);
  if (!result.ok) assert.fail(`expected ${eventOf(k)} to be accepted, got: ${formatIssues(result.issues)}`);
  return result;
}

function rejected(k: number, r: TestRecord): string[] {
  const result = map(k, r);
  if (result.ok) assert.fail(`expected ${eventOf(k)} to be rejected, got ${JSON.stringify(result.message)}`);
  return result.issues.map((i) => `${i.field}: ${i.message}`);
}

/** The value at a dotted path of the message (`attachments.0.id`), or undefined. */
function at(message: object, path: string): unknown {
  let v: unknown = message;
  for (const step of path.split('.')) {
    if (typeof v !== 'object' || v === null || !Object.prototype.hasOwnProperty.call(v, step)) return undefined;
    v = (v as Record<string, unknown>)[step];
  }
  return v;
}

function without(r: TestRecord, keys: readonly string[]): TestRecord {
  const attributes = { ...r.attributes };
  for (const key of keys) Reflect.deleteProperty(attributes, key);
  return { attributes, body: r.body };
}

function withRule(k: number, r: TestRecord, rule: KeyRule, needs: boolean): TestRecord {
  const out = without(r, rule.replaces ?? []);
  Object.assign(out.attributes, needs ? rule.needs : {}, rule.attributes(k));
  if (rule.body !== undefined) out.body = rule.body;
  return out;
}

/** A record of kind `k` whose attribute "a" has the given fields, in flattened or structured form. */
function withEntry(k: number, fields: Record<string, string | boolean>, form: 'flat' | 'structured'): TestRecord {
  const r = without(base(k), ['audit.attribute.names', ...SUFFIXES.map((s) => `audit.attribute.a.${s}`)]);
  if (form === 'structured') {
    r.attributes['audit.attributes'] = [{ name: 'a', ...fields }];
  } else {
    r.attributes['audit.attribute.names'] = ['a'];
    for (const [s, v] of Object.entries(fields)) r.attributes[`audit.attribute.a.${s}`] = v;
  }
  return r;
}

function requiredFields(k: number, except?: Suffix): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const s of SUFFIXES) if (ENTRY_USE[s][k] === 'R' && s !== except) out[s] = ENTRY_VALUE[s];
  return out;
}

describe('per-kind rules: every kind × every rule', () => {
  KINDS.forEach((event, k) => {
    describe(event, () => {
      it('accepts a record with exactly the required fields', T, () => {
        accepted(k, base(k));
      });

      for (const rule of KEY_RULES) {
        const use = rule.use[k];
        const sap = rule.sap;
        if (use === '-') {
          it(`${rule.label}: rejected, naming ${rule.field}`, T, () => {
            assert.deepEqual(rejected(k, withRule(k, base(k), rule, false)), [`${rule.field}: not used by ${event}`]);
          });
          continue;
        }
        it(`${rule.label}: accepted (${use})`, T, () => {
          const r = accepted(k, withRule(k, base(k), rule, true));
          if (sap === undefined) return;
          const inBody = use === 'R' || use === 'O';
          assert.deepEqual(at(r.message, sap.path), inBody ? sap.value : undefined, `${sap.path} in the SAP message`);
          if (use === 'L') assert.equal(r.success, sap.value, 'kept for the local record');
        });
        const missing = rule.missing;
        if (use === 'R' && missing !== undefined) {
          it(`${rule.label}: missing → rejected, naming ${rule.field}`, T, () => {
            const r = without(base(k), Object.keys(rule.attributes(k)));
            if (rule.body !== undefined) r.body = null;
            assert.deepEqual(rejected(k, r), [`${rule.field}: ${missing(event)}`]);
          });
        }
      }

      const allowed = SUFFIXES.filter((s) => ENTRY_USE[s][k] !== '-').join(', ');
      for (const form of ['flat', 'structured'] as const) {
        const field = (s: Suffix): string => (form === 'flat' ? `audit.attribute.a.${s}` : `audit.attributes[0].${s}`);
        for (const suffix of SUFFIXES) {
          const use = ENTRY_USE[suffix][k];
          const fields = { ...requiredFields(k), [suffix]: ENTRY_VALUE[suffix] };
          if (use === '-') {
            it(`attribute .${suffix} (${form}): rejected, naming ${field(suffix)}`, T, () => {
              assert.deepEqual(rejected(k, withEntry(k, fields, form)), [
                `${field(suffix)}: not used by ${event} (allowed: ${allowed})`,
              ]);
            });
            continue;
          }
          it(`attribute .${suffix} (${form}): accepted into attributes[] (${use})`, T, () => {
            const r = accepted(k, withEntry(k, fields, form));
            assert.deepEqual(at(r.message, `attributes.0.${suffix}`), ENTRY_VALUE[suffix]);
          });
          if (typeof ENTRY_VALUE[suffix] === 'string') {
            it(`attribute .${suffix} (${form}): blank ${BLANK_OK[suffix] ? 'accepted' : 'rejected'}`, T, () => {
              const blank = withEntry(k, { ...fields, [suffix]: ' ' }, form);
              if (BLANK_OK[suffix]) assert.equal(at(accepted(k, blank).message, `attributes.0.${suffix}`), ' ');
              else assert.deepEqual(rejected(k, blank), [`${field(suffix)}: must not be blank`]);
            });
          }
          if (use === 'R') {
            it(`attribute .${suffix} (${form}): missing → rejected, naming ${field(suffix)}`, T, () => {
              const message = suffix === 'value' ? 'required for security event attributes' : `required for ${event}`;
              assert.deepEqual(rejected(k, withEntry(k, requiredFields(k, suffix), form)), [
                `${field(suffix)}: ${message}`,
              ]);
            });
          }
        }
      }
    });
  });
});

describe('mapped records are typed by kind', () => {
  it('narrows the SAP message by kind', T, () => {
    const r = accepted(0, base(0));
    assert.equal(r.kind, 'security');
    assert.equal(r.type.kind, r.kind);
    // Compiles only because `kind` narrows `message` to the security event message.
    if (r.kind === 'security') assert.equal(r.message.data, 'something happened');
    const change = accepted(4, base(4));
    if (change.kind === 'configuration-change')
      assert.deepEqual(change.message.attributes, [{ name: 'a', new: 'after' }]);
    assert.equal(change.kind, 'configuration-change');
  });
});
