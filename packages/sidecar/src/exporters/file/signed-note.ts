import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/*
 * Signed notes as C2SP defines them (c2sp.org/signed-note), with Ed25519 keys in the same text forms
 * as Go's golang.org/x/mod/sumdb/note: a note is its text (lines ending in "\n"), a blank line and one
 * line "— <key name> <base64(4-byte key id ‖ signature)>" per signature.
 *   signer key:   PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ 32-byte seed)>
 *   verifier key: <name>+<key id hex>+<base64(0x01 ‖ 32-byte public key)>
 * The key id is the first 4 bytes of SHA-256(<name> "\n" 0x01 ‖ public key).
 */

const ED25519 = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const NAME = /^[^\s+]+$/;

export class NoteKeyError extends Error {}

function keyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Buffer;
  readonly key: KeyObject;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly key: KeyObject;
}

/** A new Ed25519 key pair as signer and verifier key texts. */
export function generateNoteKeys(name: string): { signer: string; verifier: string } {
  if (!NAME.test(name))
    throw new NoteKeyError(`key name ${JSON.stringify(name)} must be non-empty, without spaces or "+"`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = rawPublicKey(publicKey);
  const id = keyId(name, pub).toString('hex');
  return {
    signer: `PRIVATE+KEY+${name}+${id}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString('base64')}`,
    verifier: `${name}+${id}+${Buffer.concat([Buffer.from([ED25519]), pub]).toString('base64')}`,
  };
}

/** The `+`-separated fields of a key text; the last one (base64) may itself contain `+`. */
function splitKey(text: string, parts: number, what: string): string[] {
  const fields: string[] = [];
  let rest = text.trim();
  for (let i = 0; i < parts - 1; i++) {
    const plus = rest.indexOf('+');
    if (plus < 0) throw new NoteKeyError(`not a ${what}`);
    fields.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  fields.push(rest);
  return fields;
}

function keyBytes(b64: string, what: string): Buffer {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519) throw new NoteKeyError(`not an Ed25519 ${what}`);
  return raw.subarray(1);
}

export function parseSigner(text: string): NoteSigner {
  const [p, k, name, id, b64] = splitKey(text, 5, 'signer key (PRIVATE+KEY+name+id+key)');
  if (p !== 'PRIVATE' || k !== 'KEY') throw new NoteKeyError('not a signer key (PRIVATE+KEY+name+id+key)');
  const seed = keyBytes(b64!, 'signer key');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const computed = keyId(name!, rawPublicKey(key));
  if (computed.toString('hex') !== id) throw new NoteKeyError('signer key: the key id does not match the key');
  return { name: name!, keyId: computed, key };
}

export function parseVerifier(text: string): NoteVerifier {
  const [name, id, b64] = splitKey(text, 3, 'verifier key (name+id+key)');
  const pub = keyBytes(b64!, 'verifier key');
  const computed = keyId(name!, pub);
  if (computed.toString('hex') !== id) throw new NoteKeyError('verifier key: the key id does not match the key');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  return { name: name!, keyId: computed, key };
}

/** The note `text` (lines ending in "\n") signed by `signer` (none: an unsigned note). */
export function signNote(text: string, signer: NoteSigner | undefined): string {
  if (!text.endsWith('\n')) throw new Error('note text must end with a newline');
  if (signer === undefined) return `${text}\n`;
  const signature = sign(null, Buffer.from(text), signer.key);
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([signer.keyId, signature]).toString('base64')}\n`;
}

export interface OpenedNote {
  readonly text: string;
  /** Names of the keys whose signatures on the note verified. */
  readonly verifiedBy: string[];
  /** Key names of all signature lines. */
  readonly signedBy: string[];
}

/** Splits a note into its text and signatures and checks each signature whose key is in `verifiers`. */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('not a signed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const verifiedBy: string[] = [];
  const signedBy: string[] = [];
  for (const line of note.slice(split + 2).split('\n')) {
    if (line === '') continue;
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new Error(`not a signature line: ${line.slice(0, 80)}`);
    const sig = Buffer.from(m[2]!, 'base64');
    signedBy.push(m[1]!);
    for (const v of verifiers) {
      if (v.name !== m[1] || !v.keyId.equals(sig.subarray(0, 4))) continue;
      if (verify(null, Buffer.from(text), v.key, sig.subarray(4))) verifiedBy.push(v.name);
    }
  }
  return { text, verifiedBy, signedBy };
}
