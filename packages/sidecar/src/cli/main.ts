#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';
import { replayCommand } from './replay.js';
import { listDamagedCommand } from './list-damaged.js';
import { keygenCommand } from './keygen.js';
import { trailToolCommand } from './trail-tools.js';
import { verifyCommand } from './verify.js';
import { reconcileCommand } from './reconcile.js';

const USAGE = `Usage: otel-audit <command> [options]

Commands:
  run [--config FILE]        Run the sidecar (without --config: the embedded default config,
                             collector-config/default.yaml: OTLP on 127.0.0.1, file exporter to ./audit-data)
  validate --config FILE     Check a config; prints each problem with its key path and line
  replay [--config FILE] [--exporter ID] [--reason REGEX] [--dry-run]
                             Re-send dead letters after their cause is fixed: exporter dead letters
                             to that exporter, receiver dead letters through validation again
  replay --list-damaged [--config FILE]
                             List spool data that was damaged or went missing: where, how many
                             records, and the uuids that can still be read
  query [options]            Find records in the audit files (needs @otel-audit/trail); query --help
  report KIND [options]      Counts, last logons, failed logins, data subjects (needs @otel-audit/trail)
  verify [--config FILE | --path P] [--key PUBLIC_KEY]
                             Check the audit files' hash chain and checkpoints; verify --help
  keygen [--name N] [--out DIR]
                             Make the key pair that signs the audit files' checkpoints
  reconcile --config FILE [--since T] [--receiver ID]
                             Compare what the sap_auditlog exporter was given (the file exporter's
                             trail) with what SAP's Retrieval API returns for the same window; list
                             the uuids missing at SAP and those unknown to us (exit 1 if any missing)

Options:
  -c, --config FILE          Config file (YAML, OpenTelemetry Collector shape)
  -h, --help                 Show this help
  -v, --version              Show the version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Commands with options of their own. */
const TOOLS: Record<string, (argv: string[]) => Promise<number>> = {
  query: (argv) => trailToolCommand('query', argv),
  report: (argv) => trailToolCommand('report', argv),
  verify: verifyCommand,
  keygen: keygenCommand,
};

export async function main(argv: string[]): Promise<number> {
  const tool = argv[0] === undefined ? undefined : TOOLS[argv[0]];
  if (tool !== undefined) return tool(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        exporter: { type: 'string' },
        reason: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'list-damaged': { type: 'boolean' },
        since: { type: 'string' },
        receiver: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (rest.length > 0) {
    process.stderr.write(`unexpected argument: ${rest[0]!}\n\n${USAGE}`);
    return 2;
  }
  const replayOnly = (['exporter', 'reason', 'dry-run', 'list-damaged'] as const).filter(
    (o) => values[o] !== undefined,
  );
  if (command !== 'replay' && replayOnly.length > 0) {
    process.stderr.write(`--${replayOnly[0]!} is an option of replay, not of ${command}\n\n${USAGE}`);
    return 2;
  }
  const reconcileOnly = (['since', 'receiver'] as const).filter((o) => values[o] !== undefined);
  if (command !== 'reconcile' && reconcileOnly.length > 0) {
    process.stderr.write(`--${reconcileOnly[0]!} is an option of reconcile, not of ${command}\n\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'run':
      return runCommand(values.config);
    case 'validate':
      if (values.config === undefined) {
        process.stderr.write(`validate needs --config FILE\n\n${USAGE}`);
        return 2;
      }
      return validateCommand(values.config);
    case 'replay':
      if (values['list-damaged']) {
        const other = replayOnly.find((o) => o !== 'list-damaged');
        if (other !== undefined) {
          process.stderr.write(`--list-damaged lists; it takes no --${other}\n\n${USAGE}`);
          return 2;
        }
        return listDamagedCommand(values.config);
      }
      return replayCommand(values.config, {
        exporter: values.exporter,
        reason: values.reason,
        dryRun: values['dry-run'],
      });
    case 'reconcile':
      if (values.config === undefined) {
        process.stderr.write(`reconcile needs --config FILE\n\n${USAGE}`);
        return 2;
      }
      return reconcileCommand(values.config, { since: values.since, receiver: values.receiver });
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== 'run') process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`otel-audit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
