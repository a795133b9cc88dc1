import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Test certificates: a CA, a server certificate for the test host names, and client certificates. */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Signed by the test CA: accepted by mTLS endpoints. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** Signed by another CA: refused by mTLS endpoints. */
  readonly strangerCert: string;
  readonly strangerKey: string;
}

/** Host names the test servers answer to (resolved to 127.0.0.1 by dns-shim.ts in test processes). */
export const TEST_DOMAIN = 'auditlog.test';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl is needed to create test certificates: install it (Debian: apt-get install openssl)');
    }
    throw err;
  }
}

function issue(cwd: string, name: string, ca: string, subject: string, ext: string): void {
  openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ],
    cwd,
  );
  writeFileSync(join(cwd, `${name}.ext`), ext);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '3',
      '-extfile',
      `${name}.ext`,
    ],
    cwd,
  );
}

/** Creates the certificates with openssl in `dir`. */
export function createTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        `${ca}.key`,
        '-out',
        `${ca}.crt`,
        '-days',
        '3',
        '-subj',
        `/CN=otel-audit test ${ca}`,
      ],
      dir,
    );
  }
  issue(
    dir,
    'server',
    'ca',
    '/CN=localhost',
    `subjectAltName=DNS:localhost,DNS:*.${TEST_DOMAIN},DNS:*.uaa.${TEST_DOMAIN},DNS:*.cert.uaa.${TEST_DOMAIN},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
  );
  issue(dir, 'client', 'ca', '/CN=sb-otel-audit-test!b1|auditlog!b2', 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'stranger', 'other-ca', '/CN=stranger', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    strangerCert: read('stranger.crt'),
    strangerKey: read('stranger.key'),
  };
}
