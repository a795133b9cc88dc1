import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseVerifier, type NoteVerifier } from '../exporters/file/signed-note.js';
import { verifyTrail } from '../exporters/file/verify-trail.js';
import { findTrails, TrailOptionError } from './trails.js';

export const VERIFY_USAGE = `Usage: otel-audit verify [--config FILE | --path FILE|DIR ...] [--key PUBLIC_KEY ...]

Checks the audit trail of every file exporter (or the files under --path): the hash chain over the
lines across rotated files, and the checkpoints. Exit 0: "verified: N records in M files"; exit 1:
the file and line of the first record edited, inserted, removed or out of order, removed newest
records or a missing rotated file.

  -c, --config FILE      The sidecar's config: verifies each file exporter's path
      --path FILE|DIR    An audit file (with its rotated files) or a directory of them; repeatable
      --key PUBLIC_KEY   Verifier key (file, or the key text from otel-audit keygen); repeatable for
                         keys used before a key rotation. Checkpoint signatures are checked only with it
`;

async function readVerifier(arg: string): Promise<NoteVerifier> {
  let text = arg;
  try {
    text = await readFile(arg, 'utf8');
  } catch (err) {
    if (!arg.includes('+')) throw new TrailOptionError(`--key ${arg}: ${(err as Error).message}`);
  }
  try {
    return parseVerifier(text);
  } catch (err) {
    throw new TrailOptionError(`--key ${arg}: ${(err as Error).message}`);
  }
}

export async function verifyCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        path: { type: 'string', multiple: true },
        key: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${VERIFY_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(VERIFY_USAGE);
    return 0;
  }
  let trails;
  let verifiers: NoteVerifier[];
  try {
    verifiers = await Promise.all((values.key ?? []).map(readVerifier));
    trails = await findTrails(values.config, values.path ?? []);
  } catch (err) {
    if (!(err instanceof TrailOptionError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  let records = 0;
  let files = 0;
  let failed = false;
  for (const trail of trails) {
    const r = await verifyTrail(trail, { verifiers, complete: trail.complete });
    records += r.records;
    files += r.files;
    const parts = [`${r.records} records in ${r.files} files`];
    if (r.unchained > 0) {
      parts.push(
        `${r.unchained} of them unchained in ${r.unchainedFiles} files (written before the chain was on: not verifiable)`,
      );
    }
    parts.push(
      `${r.checkpoints} checkpoints${r.checkpoints === 0 ? '' : r.signaturesChecked ? ' (signatures verified)' : ' (signatures not checked: no --key)'}`,
    );
    process.stdout.write(`${r.trail}: ${parts.join(', ')}\n`);
    for (const n of r.notes) process.stdout.write(`  note: ${n}\n`);
    if (r.problem !== undefined) {
      failed = true;
      const where = r.problem.line === undefined ? r.problem.file : `${r.problem.file} line ${r.problem.line}`;
      process.stdout.write(`verification failed: ${where}: ${r.problem.message}\n`);
    }
  }
  if (failed) return 1;
  process.stdout.write(`verified: ${records} records in ${files} files\n`);
  return 0;
}
