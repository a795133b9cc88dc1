import type { ConfigProblem, PathSegment } from './problems.js';
import { formatPath } from './problems.js';

const REFERENCE = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands `${env:NAME}` and `${env:NAME:-default}` in every string value, as the OpenTelemetry
 * Collector does; `$$` stands for a literal `$`. An unset variable without a default is a problem
 * (reported with the key path) rather than a silent empty string; a value that expands to nothing
 * through an explicit empty default (`${env:NAME:-}`) removes its key.
 */
export function expandEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  path: PathSegment[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    const expanded = value.replace(
      REFERENCE,
      (match: string, name: string | undefined, fallback: string | undefined) => {
        if (match === '$$') return '$';
        const v = env[name!];
        if (v !== undefined && v !== '') return v;
        if (fallback !== undefined) return fallback;
        problems.push({
          path: formatPath(path),
          message: `environment variable ${name!} is not set (use \${env:${name!}:-default} for a default)`,
        });
        return '';
      },
    );
    // A value that is nothing but references and expands to nothing (`${env:X:-}`) leaves the key
    // out, so optional settings can be switched off from the environment.
    return expanded === '' && value.trim() !== '' ? undefined : expanded;
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => expandEnv(v, env, problems, [...path, i])).filter((v) => v !== undefined);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const expanded = expandEnv(v, env, problems, [...path, k]);
      if (expanded !== undefined) out[k] = expanded;
    }
    return out;
  }
  return value;
}
