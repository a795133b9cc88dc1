import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import type { ConfigProblem, PathSegment } from './problems.js';
import { AUTO_OR_SIZE_PATTERN, SIZE_PATTERN } from './size.js';
import { formatPath } from './problems.js';
import { parseEndpoint } from '../util/endpoint.js';

export type { SchemaObject };

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: true, verbose: true });

/** `host:port` or `[ipv6]:port`. */
export const ENDPOINT_SCHEMA: SchemaObject = {
  type: 'string',
  pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s\\[\\]]+):[0-9]{1,5}$',
};

/** A duration: `250ms`, `5s`, `2m`, `1h` (or a number of milliseconds). */
export const DURATION_SCHEMA: SchemaObject = {
  type: 'string',
  pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$|^[0-9]+$',
};

/** Validates `data` in place (applying schema defaults and coercing scalar types). */
export function validateSchema(schema: SchemaObject, data: unknown, base: readonly PathSegment[]): ConfigProblem[] {
  const validate = ajv.compile(schema);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => toProblem(e, base));
}

function pointerSegments(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function toProblem(e: ErrorObject, base: readonly PathSegment[]): ConfigProblem {
  const segments = [...base, ...pointerSegments(e.instancePath)];
  switch (e.keyword) {
    case 'required':
      return { path: formatPath(segments), message: `missing required key "${String(e.params['missingProperty'])}"` };
    case 'additionalProperties': {
      const key = String(e.params['additionalProperty']);
      const known = Object.keys((e.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {});
      const hint = closest(key, known);
      return {
        path: formatPath([...segments, key]),
        message: `unknown key${hint ? ` (did you mean "${hint}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`,
      };
    }
    case 'enum':
      return {
        path: formatPath(segments),
        message: `must be one of: ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'pattern':
      return { path: formatPath(segments), message: patternMessage(e) };
    default:
      return { path: formatPath(segments), message: e.message ?? e.keyword };
  }
}

function patternMessage(e: ErrorObject): string {
  const pattern = String(e.params['pattern']);
  if (pattern === ENDPOINT_SCHEMA['pattern']) return 'must be host:port (e.g. 127.0.0.1:4318 or [::1]:4318)';
  if (pattern === DURATION_SCHEMA['pattern']) return 'must be a duration such as 500ms, 5s, 2m or 1h';
  if (pattern === SIZE_PATTERN) return 'must be a size such as 1048576, 512KiB, 16MiB or 1GiB';
  if (pattern === AUTO_OR_SIZE_PATTERN) return 'must be auto or a size such as 64MiB or 1GiB';
  return `must match ${pattern}`;
}

/** The known key within edit distance 2 of `key`, if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Problems with an endpoint's port number (the pattern allows 0–99999). */
export function checkEndpointPort(endpoint: string, path: string): ConfigProblem[] {
  const { port } = parseEndpoint(endpoint);
  return port > 65535 ? [{ path, message: `port ${port} is out of range (0-65535)` }] : [];
}
