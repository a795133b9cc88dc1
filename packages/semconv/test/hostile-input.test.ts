import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuditEventName,
  KeyValueList,
  MAX_QUOTED_LENGTH,
  formatIssues,
  formatRejectionMessage,
  keyValuesToJson,
  mapAuditRecord,
  quote,
  type AuditMappingResult,
  type KeyValue,
} from '../src/index.js';
import { Issues } from '../src/issues.js';

const TIME = '2023-06-30T00:00:00.000Z';
const UUID = '0b8e5a3e-9c1e-4c5f-8a55-8d2f7d9b1c11';

function map(attributes: KeyValue[], body: string | null = 'x', eventName: string = AuditEventName.SecurityEvent) {
  return mapAuditRecord({ eventName, body, time: TIME, attributes });
}

function issuesOf(result: AuditMappingResult): string[] {
  assert.equal(result.ok, false, 'expected rejection');
  return result.ok ? [] : result.issues.map((i) => `${i.field}: ${i.message}`);
}

describe('error texts never echo a large value', () => {
  it('quote() shows at most 128 characters, JSON-escaped, and the length', () => {
    assert.equal(quote('a"b\nc'), '"a\\"b\\nc"');
    const q = quote('x'.repeat(5 * 1024 * 1024));
    assert.equal(q, `"${'x'.repeat(MAX_QUOTED_LENGTH)}"... (5242880 characters)`);
  });

  it('caps every issue, whatever its path: the field, the message and the line of a record', () => {
    const huge = 'y'.repeat(5 * 1024 * 1024);
    // An unknown audit attribute with a 5 MiB key, a 5 MiB invalid uuid, a 5 MiB unknown event name.
    const r = map([
      { key: `audit.${huge}`, value: 'v' },
      { key: 'log.record.uid', value: huge },
    ]);
    for (const line of issuesOf(r)) assert.ok(line.length < 1024, `${line.length} characters`);
    assert.ok(issuesOf(map([{ key: 'log.record.uid', value: UUID }], 'x', `audit.${huge}`))[0]!.length < 1024);
    const issues = new Issues();
    for (let i = 0; i < 5000; i++) issues.add(`f${i}`, 'z'.repeat(10_000));
    assert.ok(issues.list.every((i) => i.message.length < 600));
    const text = formatIssues(issues.list);
    assert.ok(text.length < 9 * 1024);
    assert.match(text, /; \.\.\. and \d+ more$/);
    const message = formatRejectionMessage({ received: 1, rejected: [{ index: 0, uuid: huge, issues: issues.list }] });
    assert.ok(message.length < 10 * 1024);
  });
});

describe('keys that are Object.prototype names', () => {
  it('keeps __proto__, constructor and toString as ordinary keys, in custom details, id maps and JSON', () => {
    const r = map([
      { key: 'log.record.uid', value: UUID },
      { key: 'audit.custom.__proto__', value: 'polluted?' },
      { key: 'audit.custom.constructor', value: 'c' },
      {
        key: 'audit.custom_details',
        value: new KeyValueList([{ key: 'toString', value: 't' }]),
      },
    ]);
    assert.ok(r.ok, r.ok ? '' : formatIssues(r.issues));
    const json = JSON.stringify(r.message);
    assert.match(json, /"customDetails":\{"__proto__":"polluted\?","constructor":"c","toString":"t"\}/);
    assert.equal(Object.getPrototypeOf(r.message.customDetails), Object.prototype, 'the prototype is untouched');

    const access = mapAuditRecord({
      eventName: AuditEventName.DataAccess,
      body: null,
      time: TIME,
      attributes: [
        { key: 'log.record.uid', value: UUID },
        { key: 'audit.object.type', value: 'customer' },
        { key: 'audit.object.id.__proto__', value: '4711' },
        { key: 'audit.data_subject.type', value: 'person' },
        { key: 'audit.data_subject.id', value: new KeyValueList([{ key: '__proto__', value: 'p' }]) },
        { key: 'audit.attribute.names', value: ['name'] },
      ],
    });
    assert.ok(access.ok, access.ok ? '' : formatIssues(access.issues));
    assert.match(JSON.stringify(access.message), /"object":\{"type":"customer","id":\{"__proto__":"4711"\}\}/);
    assert.match(JSON.stringify(access.message), /"data_subject":\{"type":"person","id":\{"__proto__":"p"\}\}/);

    const twice = map([
      { key: 'log.record.uid', value: UUID },
      { key: 'audit.custom.__proto__', value: 'a' },
      { key: 'audit.custom_details', value: new KeyValueList([{ key: '__proto__', value: 'b' }]) },
    ]);
    assert.deepEqual(issuesOf(twice), ['audit.custom_details.__proto__: given more than once']);

    const resource = keyValuesToJson([
      { key: '__proto__', value: new KeyValueList([{ key: 'admin', value: true }]) },
      { key: 'service.name', value: 's' },
    ]);
    assert.equal(JSON.stringify(resource), '{"__proto__":{"admin":true},"service.name":"s"}');
    assert.equal(Object.getPrototypeOf(resource), Object.prototype);
  });
});

describe('the text rule', () => {
  it('rejects a record holding a lone surrogate, naming the field', () => {
    assert.deepEqual(issuesOf(map([{ key: 'log.record.uid', value: UUID }], 'bad \ud800 text')), [
      'body: is not valid Unicode text (invalid UTF-8, or a lone UTF-16 surrogate)',
    ]);
    assert.deepEqual(
      issuesOf(
        map([
          { key: 'log.record.uid', value: UUID },
          { key: 'audit.custom_details', value: new KeyValueList([{ key: 'k\udc00', value: 'v' }]) },
        ]),
      ),
      ['audit.custom_details: is not valid Unicode text (invalid UTF-8, or a lone UTF-16 surrogate)'],
    );
    // Surrogate pairs (and every other character) are fine.
    assert.ok(map([{ key: 'log.record.uid', value: UUID }], 'emoji 😀 and ü').ok);
  });
});
