/** AnyValue → the JS type an attribute must have; a value of another type is reported, naming the field. */

import { anyValueTypeName, KeyValueList, type AnyValue, type KeyValue } from './any-value.js';
import type { Issues } from './issues.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** A subaccount subdomain is one DNS label; it becomes part of the token host, so nothing else may pass. */
const SUBDOMAIN_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isSubdomain(value: string): boolean {
  return SUBDOMAIN_PATTERN.test(value);
}

export function asString(field: string, value: AnyValue, issues: Issues): string | undefined {
  if (typeof value === 'string') return value;
  issues.add(field, `must be a string, got ${anyValueTypeName(value)}`);
  return undefined;
}

export function asNonBlankString(field: string, value: AnyValue, issues: Issues): string | undefined {
  const s = asString(field, value, issues);
  if (s === undefined) return undefined;
  if (s.trim() === '') {
    issues.add(field, 'must not be blank');
    return undefined;
  }
  return s;
}

export function asBool(field: string, value: AnyValue, issues: Issues): boolean | undefined {
  if (typeof value === 'boolean') return value;
  issues.add(field, `must be a bool, got ${anyValueTypeName(value)}`);
  return undefined;
}

export function asStringArray(field: string, value: AnyValue, issues: Issues): string[] | undefined {
  if (!Array.isArray(value)) {
    issues.add(field, `must be an array of strings, got ${anyValueTypeName(value)}`);
    return undefined;
  }
  const arr = value as readonly AnyValue[];
  const out: string[] = new Array<string>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i] as AnyValue;
    if (typeof v !== 'string') {
      issues.add(`${field}[${i}]`, `must be a string, got ${anyValueTypeName(v)}`);
      return undefined;
    }
    out[i] = v;
  }
  return out;
}

export function asKvList(field: string, value: AnyValue, issues: Issues): readonly KeyValue[] | undefined {
  if (value instanceof KeyValueList) return value.values;
  issues.add(field, `must be a kvlist, got ${anyValueTypeName(value)}`);
  return undefined;
}

export function asSubdomain(field: string, value: AnyValue, issues: Issues): string | undefined {
  const s = asNonBlankString(field, value, issues);
  if (s === undefined || isSubdomain(s)) return s;
  issues.add(field, 'must be a subdomain: letters, digits and "-", at most 63 characters');
  return undefined;
}
