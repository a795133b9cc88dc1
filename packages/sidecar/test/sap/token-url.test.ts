import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditLogCredentials } from '../../src/sap/credentials.js';
import { TokenError, TokenProvider } from '../../src/sap/token-provider.js';

const credentials: AuditLogCredentials = {
  url: 'https://api.auditlog.cf.eu10.hana.ondemand.com:8081',
  plan: 'oauth2',
  uaa: {
    clientid: 'sb-abc!b1|auditlog!b2',
    clientsecret: 'secret-value',
    url: 'https://provider.authentication.eu10.hana.ondemand.com',
    identityzone: 'provider',
  },
  user: undefined,
  password: undefined,
  source: 'test',
  watchDirectory: undefined,
};

describe('sap_auditlog token URL', () => {
  const tokens = new TokenProvider(credentials, {}, 1000);

  it('replaces the identity zone with the subscriber subdomain', () => {
    assert.equal(tokens.tokenUrl(undefined).href, 'https://provider.authentication.eu10.hana.ondemand.com/oauth/token');
    assert.equal(
      tokens.tokenUrl('Customer-A').href,
      'https://customer-a.authentication.eu10.hana.ondemand.com/oauth/token',
    );
  });

  it('never lets a record point the client secret at another host', () => {
    for (const evil of ['attacker.example#', 'localhost/', 'x?', 'a.b', 'evil.com:443', '-a', 'a b', 'a'.repeat(64)]) {
      assert.throws(
        () => tokens.tokenUrl(evil),
        (err: unknown) => err instanceof TokenError && /not a valid subdomain/.test(err.message),
        evil,
      );
    }
  });
});
