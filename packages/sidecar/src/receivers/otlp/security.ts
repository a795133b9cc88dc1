import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../../telemetry/logger.js';
import type { ServerAuthConfig, ServerTlsConfig } from './config.js';
import { parseDuration } from '../../util/units.js';
import { parseEndpoint } from '../../util/endpoint.js';

/** Whether an endpoint's host only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/** Why an endpoint may not be used as configured, or undefined. */
export function exposureProblem(endpoint: string, tls: unknown, auth: unknown, insecure: boolean): string | undefined {
  if (isLoopback(parseEndpoint(endpoint).host) || tls !== undefined || auth !== undefined || insecure) return undefined;
  return `${endpoint} accepts connections from other hosts, but neither tls nor auth is configured; configure one of them, or set insecure: true to accept this`;
}

/** The same minimum the config schema applies to `bearer_tokens`. */
const MIN_TOKEN_LENGTH = 16;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Bearer tokens from the config and/or a file (one per line, `#` comments), compared in constant
 * time (hashes of equal length, so neither content nor length leaks). The file is re-read when it
 * changes, so tokens can be rotated without a restart.
 */
export class BearerAuth {
  private fileTokens: Buffer[] = [];
  private readonly configTokens: Buffer[];
  private fileStamp = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ServerAuthConfig,
    private readonly logger: Logger,
  ) {
    this.configTokens = (config.bearer_tokens ?? []).map(digest);
  }

  async start(): Promise<void> {
    if (this.config.bearer_tokens_file === undefined) return;
    await this.reload(true);
    this.timer = setInterval(() => void this.reload(false), parseDuration(this.config.reload_interval));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async reload(initial: boolean): Promise<void> {
    const file = this.config.bearer_tokens_file!;
    try {
      const s = await stat(file);
      const stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
      if (stamp === this.fileStamp) return;
      const tokens: string[] = [];
      const lines = (await readFile(file, 'utf8')).split('\n');
      for (let i = 0; i < lines.length; i++) {
        const token = lines[i]!.trim();
        if (token === '' || token.startsWith('#')) continue;
        // The token itself is never put into the message: it is a secret even when too short.
        if (token.length < MIN_TOKEN_LENGTH) {
          throw new Error(`line ${i + 1} holds a token shorter than ${MIN_TOKEN_LENGTH} characters`);
        }
        tokens.push(token);
      }
      this.fileTokens = tokens.map(digest);
      this.fileStamp = stamp;
      this.logger.info({ file, tokens: tokens.length }, initial ? 'bearer tokens loaded' : 'bearer tokens reloaded');
    } catch (err) {
      if (initial) throw new Error(`cannot use bearer_tokens_file ${file}: ${(err as Error).message}`);
      this.logger.error(
        { file, err: (err as Error).message },
        'cannot use bearer_tokens_file as changed; keeping the tokens loaded before',
      );
    }
  }

  /** Whether an `Authorization` header value carries an accepted token. */
  accepts(authorization: string | undefined): boolean {
    if (authorization === undefined) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return false;
    const presented = digest(m[1]!);
    let ok = false;
    for (const t of this.configTokens) ok = timingSafeEqual(t, presented) || ok;
    for (const t of this.fileTokens) ok = timingSafeEqual(t, presented) || ok;
    return ok;
  }
}

/** PEM material of a receiver's TLS config, read from its files. */
export interface TlsMaterial {
  cert: string;
  key: string;
  ca?: string;
}

/** Reads the TLS files and checks that they hold a usable certificate, key and CA (errors name the files). */
export async function readTlsMaterial(tls: ServerTlsConfig): Promise<TlsMaterial> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read tls ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const material: TlsMaterial = {
    cert: await read(tls.cert_file, 'cert_file'),
    key: await read(tls.key_file, 'key_file'),
    ...(tls.client_ca_file === undefined ? {} : { ca: await read(tls.client_ca_file, 'client_ca_file') }),
  };
  try {
    createSecureContext(material);
  } catch (err) {
    const files = [tls.cert_file, tls.key_file, tls.client_ca_file].filter((f) => f !== undefined).join(', ');
    throw new Error(`tls files ${files} are not a usable certificate, key and CA: ${(err as Error).message}`);
  }
  return material;
}

/** Calls `onChange` with fresh material whenever one of the TLS files changes. */
export function watchTlsMaterial(
  tls: ServerTlsConfig,
  onChange: (m: TlsMaterial) => void,
  logger: Logger,
  unusable = 'cannot reload the TLS certificate; keeping the current one',
): () => void {
  let last = '';
  const files = [tls.cert_file, tls.key_file, tls.client_ca_file].filter((f): f is string => f !== undefined);
  const check = async () => {
    try {
      const stamp = (await Promise.all(files.map(async (f) => `${(await stat(f)).mtimeMs}`))).join(',');
      if (last !== '' && stamp !== last) {
        onChange(await readTlsMaterial(tls));
        logger.info({ cert_file: tls.cert_file }, 'TLS certificate reloaded');
      }
      last = stamp;
    } catch (err) {
      logger.error({ err: (err as Error).message }, unusable);
    }
  };
  void check();
  const timer = setInterval(() => void check(), parseDuration(tls.reload_interval));
  timer.unref();
  return () => clearInterval(timer);
}
