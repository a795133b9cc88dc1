import { readFile } from 'node:fs/promises';
import { resolve, isAbsolute } from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, isSeq, type Document } from 'yaml';
import { LOG_LEVELS } from '../telemetry/logger.js';
import { expandEnv } from './env.js';
import { ConfigError, formatPath, type ConfigProblem, type PathSegment } from './problems.js';
import { DURATION_SCHEMA, ENDPOINT_SCHEMA, checkEndpointPort, validateSchema, type SchemaObject } from './schema.js';
import { AUTO_OR_SIZE_SCHEMA, SIZE_PATTERN, SIZE_SCHEMA } from './size.js';
import { parseDuration, parseSize } from '../util/units.js';

export interface ComponentConfig {
  /** `type` or `type/name`. */
  readonly id: string;
  readonly type: string;
  readonly config: unknown;
}

export interface ServiceConfig {
  /** Where the config came from (file path or `<embedded default>`). */
  readonly source: string;
  readonly receivers: readonly ComponentConfig[];
  readonly exporters: readonly ComponentConfig[];
  readonly storage: {
    readonly directory: string;
    /** Spool size at which receivers answer 429 / RESOURCE_EXHAUSTED. */
    readonly maxSizeBytes: number;
    readonly segmentSizeBytes: number;
    /** fdatasync before acknowledging (false: a machine crash, not a process crash, can lose acknowledged records). */
    readonly fsync: boolean;
    /** Space kept free in the directory for the writes that free space (cursors, LOCK, exporter dead letters). */
    readonly reserveBytes: number;
    /** How the LOCK's holder keeps it fresh, and when a LOCK nobody touches counts as abandoned. */
    readonly lock: { readonly heartbeatMs: number; readonly staleMs: number };
    /** Dead-letter files past this size keep no more receiver dead letters (they are counted and logged). */
    readonly deadLetterMaxBytes: number;
  };
  /** How long shutdown waits for exporters to finish batches in flight. */
  readonly shutdownTimeoutMs: number;
  /** Memory the receivers may hold for requests in flight, in bytes; `auto`: derived from the memory limit. */
  readonly intakeMemoryBudget: number | 'auto';
  readonly telemetry: {
    /** Metrics and health endpoint (`/metrics`, `/healthz`, `/readyz`); undefined turns it off. */
    readonly address: string | undefined;
    readonly logs: { readonly level: (typeof LOG_LEVELS)[number] };
  };
  readonly pipeline: {
    readonly name: string;
    readonly receivers: readonly string[];
    readonly exporters: readonly string[];
  };
  /** Receivers defined but not in the pipeline (tools such as `reconcile` use them). */
  readonly unusedReceivers?: readonly ComponentConfig[];
}

/** Smallest `service.intake_memory_budget` accepted. */
const MIN_INTAKE_BUDGET = 4 * 1024 * 1024;

const ID_PATTERN = '^[a-z][a-z0-9_]*(/[^/\\s]+)?$';
/** Without `deadletter.max_size`, the dead letters may take this fraction of the spool's `max_size`. */
const DEAD_LETTER_SHARE = 8;

const componentIdsSchema: SchemaObject = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { type: 'string', pattern: ID_PATTERN },
};

/** The file's structure; each component's own settings are checked by its factory's schema. */
const rootSchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['receivers', 'exporters', 'service'],
  properties: {
    receivers: { type: 'object', minProperties: 1 },
    exporters: { type: 'object', minProperties: 1 },
    extensions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        storage: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            directory: { type: 'string', minLength: 1, default: './audit-data/spool' },
            max_size: { ...SIZE_SCHEMA, default: '1GiB' },
            segment_size: { ...SIZE_SCHEMA, default: '16MiB' },
            fsync: { type: 'boolean', default: true },
            reserve_size: { ...SIZE_SCHEMA, default: '1MiB' },
            lock: {
              type: 'object',
              additionalProperties: false,
              default: {},
              properties: {
                heartbeat_interval: { ...DURATION_SCHEMA, default: '5s' },
                stale_after: { ...DURATION_SCHEMA, default: '20s' },
              },
            },
            deadletter: {
              type: 'object',
              additionalProperties: false,
              default: {},
              properties: { max_size: { ...SIZE_SCHEMA } },
            },
          },
        },
      },
    },
    service: {
      type: 'object',
      additionalProperties: false,
      required: ['pipelines'],
      properties: {
        shutdown_timeout: { ...DURATION_SCHEMA, default: '20s' },
        intake_memory_budget: { ...AUTO_OR_SIZE_SCHEMA, default: 'auto' },
        telemetry: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            address: { ...ENDPOINT_SCHEMA },
            logs: {
              type: 'object',
              additionalProperties: false,
              default: {},
              properties: { level: { enum: [...LOG_LEVELS], default: 'info' } },
            },
          },
        },
        pipelines: {
          type: 'object',
          minProperties: 1,
          maxProperties: 1,
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['receivers', 'exporters'],
            properties: { receivers: componentIdsSchema, exporters: componentIdsSchema },
          },
        },
      },
    },
  },
};

interface RawRoot {
  receivers: Record<string, unknown>;
  exporters: Record<string, unknown>;
  extensions: {
    storage: {
      directory: string;
      max_size: string | number;
      segment_size: string | number;
      fsync: boolean;
      reserve_size: string | number;
      lock: { heartbeat_interval: string; stale_after: string };
      deadletter: { max_size?: string | number };
    };
  };
  service: {
    shutdown_timeout: string;
    intake_memory_budget: string;
    telemetry: { address?: string; logs: { level: (typeof LOG_LEVELS)[number] } };
    pipelines: Record<string, { receivers: string[]; exporters: string[] }>;
  };
}

/** What the loader needs of a component type: its settings' schema and the checks beyond it. */
export interface ConfigurableType {
  readonly schema: SchemaObject;
  normalize?(raw: unknown): unknown;
  validate?(config: never, path: string): ConfigProblem[];
  /** Receivers: the kind of records they produce (unset: audit records of ours). */
  readonly produces?: string;
  /** Exporters: kinds of records they must not get, with the reason. */
  readonly refuses?: Readonly<Record<string, string>>;
}

/** The component types the loader knows, by section (the component registry). */
export interface ConfigurableTypes {
  readonly receivers: ReadonlyMap<string, ConfigurableType>;
  readonly exporters: ReadonlyMap<string, ConfigurableType>;
}

export interface ParseOptions {
  /** Name used in messages (a file path). */
  readonly source: string;
  readonly registry: ConfigurableTypes;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Relative storage paths resolve against this directory (default: the working directory, as in the Collector). */
  readonly baseDir?: string;
}

/**
 * Parses and validates a config (docs/configuration.md): YAML, `${env:…}` expansion, the root structure,
 * each component's settings against its factory's schema, and the pipeline's references.
 * Throws {@link ConfigError} listing every problem with its key path and line.
 */
export function parseConfig(text: string, options: ParseOptions): ServiceConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.push({ path: '(yaml)', message: e.message.split('\n', 1)[0]!, line: pos?.line, column: pos?.col });
  }
  if (problems.length > 0) throw new ConfigError(options.source, problems);

  const raw = expandEnv(doc.toJS() ?? {}, options.env ?? process.env, problems);
  problems.push(...validateSchema(rootSchema, raw, []));
  // Keep going where the structure allows, so one run reports every problem.
  const root = raw as Partial<RawRoot>;
  const receivers = isObject(root.receivers)
    ? checkComponents('receivers', root.receivers, options.registry.receivers, problems)
    : [];
  const exporters = isObject(root.exporters)
    ? checkComponents('exporters', root.exporters, options.registry.exporters, problems)
    : [];
  const pipelines =
    isObject(root.service) && isObject(root.service.pipelines) ? Object.entries(root.service.pipelines) : [];
  const [pipelineName, pipeline] = (pipelines[0] ?? ['', {}]) as [
    string,
    Partial<RawRoot['service']['pipelines'][string]>,
  ];
  if (Array.isArray(pipeline.receivers)) checkRefs(pipelineName, 'receivers', pipeline.receivers, receivers, problems);
  if (Array.isArray(pipeline.exporters)) checkRefs(pipelineName, 'exporters', pipeline.exporters, exporters, problems);
  if (Array.isArray(pipeline.receivers) && Array.isArray(pipeline.exporters)) {
    checkRecordKinds(pipelineName, pipeline.receivers, pipeline.exporters, options.registry, problems);
  }
  const storage = root.extensions?.storage;
  if (storage !== undefined && problems.length === 0) {
    const max = parseSize(storage.max_size);
    const segment = parseSize(storage.segment_size);
    if (max < 4 * segment) {
      problems.push({
        path: 'extensions.storage.max_size',
        message: `must be at least 4 times segment_size (${storage.segment_size}): a segment is deleted only once every exporter is past it`,
      });
    }
    const heartbeat = parseDuration(storage.lock.heartbeat_interval);
    if (heartbeat < 100) {
      problems.push({ path: 'extensions.storage.lock.heartbeat_interval', message: 'must be at least 100ms' });
    } else if (parseDuration(storage.lock.stale_after) < 3 * heartbeat) {
      problems.push({
        path: 'extensions.storage.lock.stale_after',
        message: `must be at least 3 times heartbeat_interval (${storage.lock.heartbeat_interval}): a holder that misses one heartbeat is still running`,
      });
    }
  }
  const budget = root.service?.intake_memory_budget;
  if (typeof budget === 'string' && new RegExp(SIZE_PATTERN).test(budget) && parseSize(budget) < MIN_INTAKE_BUDGET) {
    problems.push({
      path: 'service.intake_memory_budget',
      message: 'must be auto or at least 4MiB: a smaller budget would refuse ordinary requests',
    });
  }
  const address = root.service?.telemetry?.address;
  if (typeof address === 'string' && new RegExp(String(ENDPOINT_SCHEMA['pattern'])).test(address)) {
    problems.push(...checkEndpointPort(address, 'service.telemetry.address'));
  }

  if (problems.length > 0) throw located(options.source, problems, doc, lineCounter);
  const baseDir = options.baseDir ?? process.cwd();
  const used = { receivers: pipeline.receivers ?? [], exporters: pipeline.exporters ?? [] };
  return {
    source: options.source,
    receivers: receivers.filter((c) => used.receivers.includes(c.id)),
    unusedReceivers: receivers.filter((c) => !used.receivers.includes(c.id)),
    exporters: exporters.filter((c) => used.exporters.includes(c.id)),
    storage: {
      directory: resolvePath(baseDir, root.extensions!.storage.directory),
      maxSizeBytes: parseSize(root.extensions!.storage.max_size),
      segmentSizeBytes: parseSize(root.extensions!.storage.segment_size),
      fsync: root.extensions!.storage.fsync,
      reserveBytes: parseSize(root.extensions!.storage.reserve_size),
      lock: {
        heartbeatMs: parseDuration(root.extensions!.storage.lock.heartbeat_interval),
        staleMs: parseDuration(root.extensions!.storage.lock.stale_after),
      },
      deadLetterMaxBytes:
        root.extensions!.storage.deadletter.max_size === undefined
          ? Math.floor(parseSize(root.extensions!.storage.max_size) / DEAD_LETTER_SHARE)
          : parseSize(root.extensions!.storage.deadletter.max_size),
    },
    shutdownTimeoutMs: parseDuration(root.service!.shutdown_timeout),
    intakeMemoryBudget:
      root.service!.intake_memory_budget === 'auto' ? 'auto' : parseSize(root.service!.intake_memory_budget),
    telemetry: { address, logs: root.service!.telemetry.logs },
    pipeline: { name: pipelineName, ...used },
  };
}

export async function loadConfigFile(file: string, options: Omit<ParseOptions, 'source'>): Promise<ServiceConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseConfig(text, { ...options, source: file });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolvePath(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function checkComponents(
  section: 'receivers' | 'exporters',
  entries: Record<string, unknown>,
  factories: ReadonlyMap<string, ConfigurableType>,
  problems: ConfigProblem[],
): ComponentConfig[] {
  const out: ComponentConfig[] = [];
  for (const [id, value] of Object.entries(entries)) {
    const path: PathSegment[] = [section, id];
    if (!new RegExp(ID_PATTERN).test(id)) {
      problems.push({ path: formatPath(path), message: 'component ids are `type` or `type/name`' });
      out.push({ id, type: '', config: value });
      continue;
    }
    const type = id.split('/', 1)[0]!;
    const factory = factories.get(type);
    if (factory === undefined) {
      problems.push({
        path: formatPath(path),
        message: `unknown ${section.slice(0, -1)} type "${type}" (known: ${[...factories.keys()].join(', ')})`,
      });
      // Still defined, so the pipeline's reference to it is not reported a second time.
      out.push({ id, type, config: value });
      continue;
    }
    const config = factory.normalize ? factory.normalize(value ?? {}) : (value ?? {});
    const found = validateSchema(factory.schema, config, path);
    if (found.length === 0 && factory.validate) found.push(...factory.validate(config as never, formatPath(path)));
    problems.push(...found);
    out.push({ id, type, config });
  }
  return out;
}

function checkRefs(
  pipeline: string,
  section: 'receivers' | 'exporters',
  refs: readonly string[],
  defined: readonly ComponentConfig[],
  problems: ConfigProblem[],
): void {
  refs.forEach((ref, i) => {
    if (!defined.some((c) => c.id === ref)) {
      problems.push({
        path: formatPath(['service', 'pipelines', pipeline, section, i]),
        message: `"${ref}" is not defined under ${section} (defined: ${defined.map((c) => c.id).join(', ') || 'none'})`,
      });
    }
  });
}

/** An exporter that refuses the kind of records one of the pipeline's receivers produces. */
function checkRecordKinds(
  pipeline: string,
  receivers: readonly string[],
  exporters: readonly string[],
  registry: ConfigurableTypes,
  problems: ConfigProblem[],
): void {
  const typeOf = (id: string) => id.split('/', 1)[0]!;
  exporters.forEach((exporter, i) => {
    const refuses = registry.exporters.get(typeOf(exporter))?.refuses ?? {};
    for (const receiver of receivers) {
      const kind = registry.receivers.get(typeOf(receiver))?.produces;
      const reason = kind === undefined ? undefined : refuses[kind];
      if (reason === undefined) continue;
      problems.push({
        path: formatPath(['service', 'pipelines', pipeline, 'exporters', i]),
        message: `"${exporter}" cannot export the records of receiver "${receiver}": ${reason}`,
      });
    }
  });
}

/** Adds line/column to each problem: the key it names, else the nearest node above its path. */
function located(source: string, problems: ConfigProblem[], doc: Document, lines: LineCounter): ConfigError {
  const at = (node: unknown): { line: number; col: number } | undefined =>
    isNode(node) && node.range ? lines.linePos(node.range[0]) : undefined;
  for (const p of problems) {
    if (p.line !== undefined || p.path.startsWith('(')) continue;
    const pos = at(nodeAt(doc.contents, p.path)) ?? at(doc.contents);
    if (pos) {
      p.line = pos.line;
      p.column = pos.col;
    }
  }
  return new ConfigError(source, problems);
}

/**
 * The deepest node of the document that a problem's key path reaches: the key itself where it
 * exists. Keys may contain dots (`exporters.file/eu.10.path`), so at each map the longest key that
 * the rest of the path starts with is taken, rather than splitting the path at every dot.
 */
function nodeAt(root: unknown, path: string): unknown {
  let node = root;
  let found: unknown = undefined;
  let rest = path;
  while (rest !== '') {
    if (isMap(node)) {
      let best: { pair: (typeof node.items)[number]; key: string } | undefined;
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined || !startsWithSegment(rest, key)) continue;
        if (best === undefined || key.length > best.key.length) best = { pair, key };
      }
      if (best === undefined) return found;
      found = best.pair.key;
      node = best.pair.value;
      rest = rest.slice(best.key.length).replace(/^\./, '');
    } else if (isSeq(node)) {
      const m = /^\[(\d+)\]\.?/.exec(rest);
      const item = m === null ? undefined : node.items[Number(m[1])];
      if (m === null || item === undefined) return found;
      found = item;
      node = item;
      rest = rest.slice(m[0].length);
    } else {
      return found;
    }
  }
  return found;
}

/** Whether `path` starts with the key `key` followed by the end, a `.` or an index. */
function startsWithSegment(path: string, key: string): boolean {
  if (!path.startsWith(key)) return false;
  const next = path.charAt(key.length);
  return next === '' || next === '.' || next === '[';
}
