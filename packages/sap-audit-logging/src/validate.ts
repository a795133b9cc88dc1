/**
 * The argument checks of `@sap/audit-logging` v2, with the messages and error types it throws
 * (observed in 7.0.2): an `AssertionError` (node:assert) for a missing or mistyped value, a plain
 * `Error` for a repeated attribute name. Callers that catch on the message keep working. The
 * message is formatted only when a check fails (these checks run on every audited call).
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

/** Throws `AssertionError` (actual: `ok`, expected: true) with the message `template` % `name` unless `ok` is truthy. */
function ensure(ok: unknown, template: string, name: string): void {
  if (!ok) assert(ok, format(template, name));
}

export function provided(value: unknown, name: string): void {
  ensure(value !== undefined, '%s should be provided', name);
}

export function string(value: unknown, name: string): asserts value is string {
  ensure(typeof value === 'string', '%s should be a string', name);
}

export function notEmptyString(value: unknown, name: string): asserts value is string {
  string(value, name);
  ensure(value.length, '%s should not be empty', name);
}

export function boolean(value: unknown, name: string): asserts value is boolean {
  ensure(typeof value === 'boolean', '%s should be a boolean', name);
}

export function object(value: unknown, name: string): asserts value is Record<string, unknown> {
  ensure(value && typeof value === 'object', '%s should be a JavaScript object', name);
}

export function callback(value: unknown): asserts value is (...args: unknown[]) => unknown {
  ensure(typeof value === 'function', '%s', 'Callback should be a function');
}

export function uniqueAttributeName(attributes: readonly { name?: unknown }[], name: string): void {
  if (attributes.some((a) => a.name === name)) throw new Error('Attribute names must be unique');
}

export function atLeastOneAttribute(attributes: readonly unknown[]): void {
  ensure(attributes.length > 0, '%s', 'At least 1 attribute should be provided');
}

export function typeAndId(value: unknown, name: string): asserts value is TypeAndId {
  object(value, name);
  notEmptyString(value['type'], `${name}/type`);
  const id = value['id'];
  object(id, `${name}/id`);
  const keys = Object.keys(id);
  ensure(keys.length > 0, '%s/id should have at least one property', name);
  for (const key of keys) string(id[key], `${name}/id/${key}`);
}

export function dataSubject(value: unknown, name: string): asserts value is DataSubject {
  typeAndId(value, name);
  const role = (value as { role?: unknown }).role;
  if (role !== undefined) notEmptyString(role, `${name}/role`);
}

export function notEmptyArray(value: unknown, name: string): asserts value is unknown[] {
  ensure(Array.isArray(value) && value.length > 0, '%s should be a non-empty JavaScript array', name);
}
