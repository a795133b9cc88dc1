/** One problem in a config file, located by its key path (and line, when known). */
export interface ConfigProblem {
  /** Key path, e.g. `exporters.file/archive.rotation.max_megabytes` or `service.pipelines.audit.exporters[1]`. */
  readonly path: string;
  readonly message: string;
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out === '' ? '(root)' : out;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`invalid config ${source}:\n${problems.map((p) => `  ${formatProblem(source, p)}`).join('\n')}`);
  }
}

export function formatProblem(source: string, p: ConfigProblem): string {
  const where = p.line === undefined ? source : `${source}:${p.line}:${p.column ?? 1}`;
  return `${where}: ${p.path}: ${p.message}`;
}
