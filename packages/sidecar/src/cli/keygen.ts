import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateNoteKeys, NoteKeyError } from '../exporters/file/signed-note.js';

export const KEYGEN_USAGE = `Usage: otel-audit keygen [--name NAME] [--out DIR]

Makes an Ed25519 key pair for signing the file exporter's checkpoints: DIR/NAME.key (the signer key,
for chain.signing_key_file; keep it secret, e.g. in a Kubernetes Secret) and DIR/NAME.pub (the
verifier key for otel-audit verify --key). Existing files are never overwritten.

      --name NAME   Key name, shown in each signature (default: otel-audit)
      --out DIR     Directory for the two files (default: the working directory)
`;

export async function keygenCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        name: { type: 'string', default: 'otel-audit' },
        out: { type: 'string', default: '.' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${KEYGEN_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(KEYGEN_USAGE);
    return 0;
  }
  let keys;
  try {
    keys = generateNoteKeys(values.name);
  } catch (err) {
    if (!(err instanceof NoteKeyError)) throw err;
    process.stderr.write(`--name: ${err.message}\n`);
    return 2;
  }
  const signer = join(values.out, `${values.name}.key`);
  const verifier = join(values.out, `${values.name}.pub`);
  try {
    await writeFile(signer, `${keys.signer}\n`, { mode: 0o600, flag: 'wx' });
    await writeFile(verifier, `${keys.verifier}\n`, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    process.stderr.write(`--out ${values.out}: ${(err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(
    `signer key:   ${signer}  (exporters.file.chain.signing_key_file; keep it secret)\n` +
      `verifier key: ${verifier}  (otel-audit verify --key ${verifier})\n` +
      `${keys.verifier}\n`,
  );
  return 0;
}
