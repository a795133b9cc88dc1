import { ConfigError, formatProblem } from '../config/problems.js';
import { loadConfig } from './load.js';

export async function validateCommand(file: string): Promise<number> {
  try {
    const config = await loadConfig(file);
    process.stdout.write(
      `${file}: valid (pipeline ${config.pipeline.name}: ${config.pipeline.receivers.join(', ')} → ${config.pipeline.exporters.join(', ')})\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stdout.write(`${formatProblem(err.source, p)}\n`);
    process.stdout.write(`${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} found\n`);
    return 1;
  }
}
