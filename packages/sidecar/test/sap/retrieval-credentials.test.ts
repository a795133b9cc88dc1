import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateSchema } from '../../src/config/schema.js';
import { retrievalSchema, type RetrievalConfig } from '../../src/receivers/sap-auditlog-retrieval/config.js';
import { AUDITLOG_RETRIEVAL_API, CredentialsError, resolveCredentials } from '../../src/sap/credentials.js';

function config(extra: Record<string, unknown> = {}): RetrievalConfig {
  const c = { system_id: 's', ...extra };
  assert.deepEqual(validateSchema(retrievalSchema, c, []), []);
  return c as unknown as RetrievalConfig;
}

const KEY = {
  url: 'https://auditlog-management.cfapps.eu20.hana.ondemand.com',
  vendor: 'SAP',
  uaa: {
    clientid: 'sb-d1c2!b1|auditlog-management!b77',
    clientsecret: 'retrieval-secret',
    url: 'https://sub.authentication.eu20.hana.ondemand.com',
    identityzone: 'sub',
  },
};

describe('auditlog-management credentials (the same code as the exporter, another label)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'otel-audit-retrieval-bindings-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds the auditlog-management entry of VCAP_SERVICES, not the auditlog one', async () => {
    const vcap = JSON.stringify({
      auditlog: [
        { label: 'auditlog', name: 'write', credentials: { url: 'https://api.auditlog.example', uaa: KEY.uaa } },
      ],
      'auditlog-management': [{ label: 'auditlog-management', name: 'read', plan: 'default', credentials: KEY }],
    });
    const c = await resolveCredentials(config(), { VCAP_SERVICES: vcap }, AUDITLOG_RETRIEVAL_API);
    assert.equal(c.url, KEY.url);
    assert.equal(c.plan, 'default');
    assert.equal(c.source, 'VCAP_SERVICES (read)');
  });

  it('reads a service-operator binding of type auditlog-management, and the Kyma read-credentials Secret', async () => {
    const ops = join(root, 'ops');
    await mkdir(join(ops, 'my-reader'), { recursive: true });
    await writeFile(join(ops, 'my-reader', 'type'), 'auditlog-management');
    await writeFile(join(ops, 'my-reader', 'url'), KEY.url);
    await writeFile(join(ops, 'my-reader', 'uaa'), JSON.stringify(KEY.uaa));
    const c = await resolveCredentials(config(), { SERVICE_BINDING_ROOT: ops }, AUDITLOG_RETRIEVAL_API);
    assert.equal(c.uaa?.clientsecret, 'retrieval-secret');
    assert.equal(c.watchDirectory, join(ops, 'my-reader'));

    const kyma = join(root, 'kyma');
    await mkdir(join(kyma, 'auditlog-management'), { recursive: true });
    for (const [k, v] of Object.entries({
      url: KEY.url,
      clientID: 'sb-kyma',
      clientSecret: 'kyma-secret',
      tokenUrl: 'https://sub.authentication.eu20.hana.ondemand.com/oauth/token',
    }))
      await writeFile(join(kyma, 'auditlog-management', k), v);
    const k = await resolveCredentials(config(), { SERVICE_BINDING_ROOT: kyma }, AUDITLOG_RETRIEVAL_API);
    assert.deepEqual(k.uaa, {
      clientid: 'sb-kyma',
      clientsecret: 'kyma-secret',
      url: 'https://sub.authentication.eu20.hana.ondemand.com',
    });
  });

  it('needs an OAuth2 client: user/password alone is not a Retrieval API key', async () => {
    const vcap = JSON.stringify({
      'auditlog-management': [
        { label: 'auditlog-management', credentials: { url: KEY.url, user: 'u', password: 'p' } },
      ],
    });
    await assert.rejects(
      resolveCredentials(config(), { VCAP_SERVICES: vcap }, AUDITLOG_RETRIEVAL_API),
      (e: unknown) => e instanceof CredentialsError && /the credentials have no uaa/.test(e.message),
    );
    await assert.rejects(
      resolveCredentials(config(), {}, AUDITLOG_RETRIEVAL_API),
      (e: unknown) =>
        e instanceof CredentialsError &&
        e.message ===
          'no SAP Audit Log Retrieval API credentials found; looked at: url/uaa in the receiver config; SERVICE_BINDING_ROOT (not set); VCAP_SERVICES (not set)',
    );
  });
});
