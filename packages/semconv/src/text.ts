/**
 * The text rule: every string of an audit record (attribute keys and values, nested ones, the
 * body) must be well-formed Unicode. A lone UTF-16 surrogate (OTLP/JSON can carry one as `\ud800`,
 * a JavaScript string can hold one) cannot be written as UTF-8, so SAP, Splunk and the audit file
 * would each get something else; the record is rejected instead, naming the field. Over
 * OTLP/protobuf the same goes for invalid UTF-8 (the decoder finds it).
 */

import { KeyValueList, type AnyValue, type KeyValue } from './any-value.js';

/** The message of the issue for a field that breaks the text rule. */
export const MALFORMED_TEXT = 'is not valid Unicode text (invalid UTF-8, or a lone UTF-16 surrogate)';

/** `String.prototype.isWellFormed` (ES2024; Node 20), typed here because the project compiles against ES2022. */
export function isWellFormedText(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * The first field holding a string that is not well-formed: an attribute's key (the attribute, for
 * nested keys and values) or `body`; undefined when all are well-formed. Cheap for the usual text:
 * V8 answers for a Latin-1 string without looking at it.
 */
export function malformedTextField(attributes: readonly KeyValue[], body?: AnyValue): string | undefined {
  if (body !== undefined && !wellFormedValue(body)) return 'body';
  for (const { key, value } of attributes) {
    if (!isWellFormedText(key) || !wellFormedValue(value)) return key;
  }
  return undefined;
}

function wellFormedValue(v: AnyValue): boolean {
  if (typeof v === 'string') return isWellFormedText(v);
  if (v instanceof KeyValueList) return malformedTextField(v.values) === undefined;
  if (Array.isArray(v)) return (v as readonly AnyValue[]).every(wellFormedValue);
  return true;
}
