/**
 * Benchmark parameters: `--name=value` on the command line, else the environment variable
 * `BENCH_NAME` (upper case, dashes as underscores), else a default.
 */
export function stringOption(name: string): string | undefined {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a.startsWith(prefix));
  if (arg !== undefined) return arg.slice(prefix.length);
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
}

export function requiredOption(name: string): string {
  const value = stringOption(name);
  if (value === undefined || value === '') throw new Error(`missing --${name}=...`);
  return value;
}

/** A positive number (zero allowed when `allowZero`). */
export function numberOption(name: string, fallback: number, allowZero = false): number {
  const raw = stringOption(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) {
    throw new Error(
      `--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}
