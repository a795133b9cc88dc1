// Validation of rendered objects against the Kubernetes API schemas bundled in kubernetes-models.
//
// kubernetes-models' validate() checks types, enums and required fields but accepts unknown fields
// (the OpenAPI schemas allow them), while the API server rejects or drops them. So unknown fields
// are checked here too, from the type declarations (.d.ts) that come with the same schemas.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { K8sObject } from './render.js';

type PropType = { kind: 'ref'; file: string; array: boolean } | { kind: 'map' } | { kind: 'leaf' };
type Props = ReadonlyMap<string, PropType>;

const MODELS_ROOT = dirname(fileURLToPath(import.meta.resolve('kubernetes-models')));
const cache = new Map<string, Props | undefined>();

function resolveImport(fromFile: string, specifier: string): string {
  if (specifier.startsWith('.')) return join(dirname(fromFile), specifier.replace(/\.js$/, '.d.ts'));
  return fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, '.d.ts');
}

/** The properties of the interface a .d.ts declares, or undefined for type aliases (Quantity, IntOrString). */
function properties(file: string): Props | undefined {
  if (cache.has(file)) return cache.get(file);
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(m[1]!, m[2]!);
  const start = text.search(/^export interface \w+/m);
  let props: Map<string, PropType> | undefined;
  if (start >= 0) {
    props = new Map();
    const body = text.slice(text.indexOf('{', start) + 1, text.indexOf('\n}', start));
    for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*?);?$/gm)) {
      let type = m[2]!;
      const array = /^Array<(\w+)>$/.exec(type);
      if (array) type = array[1]!;
      const spec = imports.get(type);
      if (spec !== undefined) props.set(m[1]!, { kind: 'ref', file: resolveImport(file, spec), array: array !== null });
      else props.set(m[1]!, type === '{' ? { kind: 'map' } : { kind: 'leaf' });
    }
  }
  cache.set(file, props);
  return props;
}

function unknownFields(value: unknown, props: Props, path: string, out: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const p = props.get(key);
    if (p === undefined) {
      out.push(`${path}.${key}: unknown field`);
      continue;
    }
    if (p.kind !== 'ref') continue;
    const sub = properties(p.file);
    if (sub === undefined) continue;
    if (p.array && Array.isArray(v)) v.forEach((x, i) => unknownFields(x, sub, `${path}.${key}[${i}]`, out));
    else unknownFields(v, sub, `${path}.${key}`, out);
  }
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Throws with the path of the first schema violation or a list of unknown fields. */
export async function validateObject(o: K8sObject): Promise<void> {
  const apiVersion = String(o['apiVersion']);
  const kind = String(o['kind']);
  const mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
  const Model = mod[kind] as ModelClass | undefined;
  if (Model === undefined) throw new Error(`kubernetes-models has no ${kind} in ${apiVersion}`);
  new Model(o).validate();
  const props = properties(join(MODELS_ROOT, apiVersion, `${kind}.d.ts`));
  if (props === undefined) throw new Error(`no type declaration for ${apiVersion} ${kind}`);
  const unknown: string[] = [];
  unknownFields(o, props, kind, unknown);
  if (unknown.length > 0) throw new Error(unknown.join('\n'));
}
