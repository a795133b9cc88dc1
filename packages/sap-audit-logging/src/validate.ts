/**
 * The argument checks of `@sap/audit-logging` v2, with the messages and error types it throws
 * (observed in 7.0.2): an `AssertionError` (node:assert) for a missing or mistyped value, a plain
 * `Error` for a repeated attribute name. Callers that catch on the message keep working.
 */
import assert from 'node:assert';
import { format } from 'node:util';

/** `{ type, id }` of the accessed object or of a data subject, as the caller passed it. */
export interface TypeAndId {
  type: string;
  id: Record<string, string>;
}

export interface DataSubject extends TypeAndId {
  role?: string;
}

export function provided(value: unknown, name: string): void {
  assert(value !== undefined, format('%s should be provided', name));
}

export function string(value: unknown, name: string): asserts value is string {
  assert(typeof value === 'string', format('%s should be a string', name));
}

export function notEmptyString(value: unknown, name: string): asserts value is string {
  string(value, name);
  assert(value.length, format('%s should not be empty', name));
}

export function boolean(value: unknown, name: string): asserts value is boolean {
  assert(typeof value === 'boolean', format('%s should be a boolean', name));
}

export function object(value: unknown, name: string): asserts value is Record<string, unknown> {
  assert(value && typeof value === 'object', format('%s should be a JavaScript object', name));
}

export function callback(value: unknown): asserts value is (...args: unknown[]) => unknown {
  assert(typeof value === 'function', 'Callback should be a function');
}

export function uniqueAttributeName(attributes: readonly { name?: unknown }[], name: string): void {
  if (attributes.some((a) => a.name === name)) throw new Error('Attribute names must be unique');
}

export function atLeastOneAttribute(attributes: readonly unknown[]): void {
  assert(attributes.length > 0, 'At least 1 attribute should be provided');
}

export function typeAndId(value: unknown, name: string): asserts value is TypeAndId {
  object(value, name);
  notEmptyString(value['type'], `${name}/type`);
  const id = value['id'];
  object(id, `${name}/id`);
  const keys = Object.keys(id);
  assert(keys.length > 0, format('%s/id should have at least one property', name));
  for (const key of keys) string(id[key], `${name}/id/${key}`);
}

export function dataSubject(value: unknown, name: string): asserts value is DataSubject {
  typeAndId(value, name);
  const role = (value as { role?: unknown }).role;
  if (role !== undefined) notEmptyString(role, `${name}/role`);
}

export function notEmptyArray(value: unknown, name: string): asserts value is unknown[] {
  assert(Array.isArray(value) && value.length > 0, format('%s should be a non-empty JavaScript array', name));
}
