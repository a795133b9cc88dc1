/** Readers for the structured form: AnyValue kvlist and array attributes. */

import { anyValueToJson, anyValueTypeName, setOwn, type AnyValue } from './any-value.js';
import { asKvList, asNonBlankString, asString } from './coerce.js';
import { quote, type Issues } from './issues.js';
import { StructuredAttr } from './names.js';
import { putId, setEntry, setOnce, type AttributeEntry, type Fields } from './record-fields.js';
import type { IdMap, SapDataSubject } from './sap-message.js';

/** `audit.object.id` / `audit.data_subject.id`: a kvlist of strings, merged into the flattened keys' map. */
export function idMapFromKvList(field: string, value: AnyValue, into: IdMap, issues: Issues): void {
  const values = asKvList(field, value, issues);
  if (values === undefined) return;
  for (const kv of values) putId(into, field, kv.key, kv.value, issues);
}

/** `audit.attributes`: an array of kvlists `{name, old, new, successful, value}`. */
export function readStructuredAttributes(fields: Fields, value: AnyValue, issues: Issues): void {
  const field = StructuredAttr.Attributes;
  if (!Array.isArray(value)) {
    issues.add(field, `must be an array of kvlists, got ${anyValueTypeName(value)}`);
    return;
  }
  if (fields.structuredAttributes) {
    issues.add(field, 'given more than once');
    return;
  }
  fields.structuredAttributes = true;
  if (fields.flatAttributes) return; // mixing the forms is reported by the checks
  const items = value as readonly AnyValue[];
  const names: string[] = [];
  fields.entries ??= new Map();
  for (let i = 0; i < items.length; i++) {
    const itemField = `${field}[${i}]`;
    const kvs = asKvList(itemField, items[i] as AnyValue, issues);
    if (kvs === undefined) continue;
    const entry: AttributeEntry = { name: '', item: i, suffixes: 0, blank: 0 };
    let name: string | undefined;
    for (const kv of kvs) {
      if (kv.key === 'name') name = asString(`${itemField}.name`, kv.value, issues);
      else setEntry(entry, kv.key, kv.value, issues);
    }
    if (name === undefined) {
      issues.required(`${itemField}.name`, 'required');
      continue;
    }
    if (name.trim() === '') {
      issues.add(`${itemField}.name`, 'must not be blank');
      continue;
    }
    if (fields.entries.has(name)) {
      issues.add(`${itemField}.name`, `duplicate attribute name ${quote(name)}`);
      continue;
    }
    names.push(name);
    fields.entries.set(name, entry);
  }
  fields.attributeNames = names;
}

/** `audit.data_subjects`: an array of kvlists `{type, role, id}` (SAP `data_subjects`). */
export function readStructuredSubjects(fields: Fields, value: AnyValue, issues: Issues): void {
  const field = StructuredAttr.DataSubjects;
  if (!Array.isArray(value)) {
    issues.add(field, `must be an array of kvlists, got ${anyValueTypeName(value)}`);
    return;
  }
  const items = value as readonly AnyValue[];
  const subjects: SapDataSubject[] = [];
  for (let i = 0; i < items.length; i++) {
    const itemField = `${field}[${i}]`;
    const kvs = asKvList(itemField, items[i] as AnyValue, issues);
    if (kvs === undefined) continue;
    let type: string | undefined;
    let role: string | undefined;
    const id: IdMap = {};
    for (const kv of kvs) {
      switch (kv.key) {
        case 'type':
          type = asNonBlankString(`${itemField}.type`, kv.value, issues);
          break;
        case 'role':
          role = asNonBlankString(`${itemField}.role`, kv.value, issues);
          break;
        case 'id':
          idMapFromKvList(`${itemField}.id`, kv.value, id, issues);
          break;
        default:
          issues.add(`${itemField}.${kv.key}`, 'unknown data subject field; expected type, role or id');
      }
    }
    if (type === undefined) issues.required(`${itemField}.type`, 'required');
    if (Object.keys(id).length === 0) issues.add(`${itemField}.id`, 'at least one key is required');
    if (type !== undefined) subjects.push(role === undefined ? { type, id } : { type, role, id });
  }
  if (items.length === 0) issues.add(field, 'must not be empty');
  setOnce(fields, 'subjects', field, subjects, issues);
}

/** `audit.custom_details`: a kvlist of any values (SAP `customDetails`), merged with `audit.custom.<k>`. */
export function readCustomDetails(fields: Fields, value: AnyValue, issues: Issues): void {
  const kvs = asKvList(StructuredAttr.CustomDetails, value, issues);
  if (kvs === undefined) return;
  fields.customDetails ??= {};
  for (const kv of kvs) {
    if (Object.prototype.hasOwnProperty.call(fields.customDetails, kv.key)) {
      issues.add(`${StructuredAttr.CustomDetails}.${kv.key}`, 'given more than once');
    } else {
      setOwn(fields.customDetails, kv.key, anyValueToJson(kv.value));
    }
  }
}
