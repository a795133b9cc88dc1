/**
 * docs/semantic-conventions.md shows the rule table four times (event types, the attribute matrix,
 * the entry suffixes, the NG mapping); each must equal what the table says.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { attributeMatrix, entrySuffixTable, eventTypesTable, ngTable } from './doc-tables.js';

const T = { timeout: 5_000 };
const DOC = fileURLToPath(new URL('../../../../docs/semantic-conventions.md', import.meta.url));

/** The markdown table under `heading` whose header line is `header`, as lines. */
function tableInDoc(doc: string, heading: string, header: string): string[] {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  assert.notEqual(start, -1, `heading "${heading}" not found in ${DOC}`);
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end === -1) end = lines.length;
  const at = lines.indexOf(header, start);
  assert.ok(at !== -1 && at < end, `table "${header}" not found under "${heading}" in ${DOC}`);
  const out: string[] = [];
  for (let i = at; i < end && (lines[i] ?? '').startsWith('|'); i++) out.push(lines[i] ?? '');
  return out;
}

function assertDocTable(heading: string, expected: string[]): void {
  const doc = readFileSync(DOC, 'utf8');
  const actual = tableInDoc(doc, heading, expected[0] ?? '');
  assert.deepEqual(
    actual,
    expected,
    `the table under "${heading}" differs from packages/semconv/src/event-types.ts; it should read:\n${expected.join('\n')}`,
  );
}

describe('docs/semantic-conventions.md follows the rule table', () => {
  it('Event types', T, () => {
    assertDocTable('## Event types', eventTypesTable());
  });

  it('Which event type takes which attribute', T, () => {
    assertDocTable('## Which event type takes which attribute', attributeMatrix());
  });

  it('Attribute entries', T, () => {
    assertDocTable('## Attribute entries: `audit.attribute.<name>.<suffix>`', entrySuffixTable());
  });

  it('SAP Audit Log Service NG', T, () => {
    assertDocTable('## SAP Audit Log Service NG', ngTable());
  });
});
