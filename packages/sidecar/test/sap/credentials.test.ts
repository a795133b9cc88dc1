import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateSchema } from '../../src/config/schema.js';
import { sapAuditLogSchema, type SapAuditLogConfig } from '../../src/exporters/sap-auditlog/config.js';
import { CredentialsError, directoryFingerprint, resolveCredentials } from '../../src/sap/credentials.js';

function config(extra: Record<string, unknown> = {}): SapAuditLogConfig {
  const c = { ...extra };
  assert.deepEqual(validateSchema(sapAuditLogSchema, c, []), []);
  return c as unknown as SapAuditLogConfig;
}

const UAA = {
  clientid: 'sb-abc!b1|auditlog!b2',
  'credential-type': 'x509',
  certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  key: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n',
  certurl: 'https://sub.authentication.cert.eu10.hana.ondemand.com',
  url: 'https://sub.authentication.eu10.hana.ondemand.com',
  identityzone: 'sub',
};
const URL_ = 'https://api.auditlog.cf.eu10.hana.ondemand.com:6081';

describe('SAP Audit Log Service credentials', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'otel-audit-bindings-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function binding(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(root, name);
    await mkdir(join(dir, 'auditlog'), { recursive: true });
    for (const [f, v] of Object.entries(files)) await writeFile(join(dir, 'auditlog', f), v);
    return dir;
  }

  it('reads the key-value layout of the SAP BTP service operator (.metadata, JSON-valued uaa)', async () => {
    const rootDir = await binding('kv', {
      '.metadata': JSON.stringify({
        metaDataProperties: [
          { name: 'instance_name', format: 'text' },
          { name: 'plan', format: 'text' },
          { name: 'type', format: 'text' },
        ],
        credentialProperties: [
          { name: 'url', format: 'text' },
          { name: 'vendor', format: 'text' },
          { name: 'uaa', format: 'json' },
        ],
      }),
      instance_name: 'my-auditlog',
      plan: 'premium',
      type: 'auditlog',
      url: URL_,
      vendor: 'SAP',
      uaa: JSON.stringify(UAA),
    });
    const c = await resolveCredentials(config(), { SERVICE_BINDING_ROOT: rootDir });
    assert.equal(c.url, URL_);
    assert.equal(c.plan, 'premium');
    assert.equal(c.uaa?.certurl, UAA.certurl);
    assert.equal(c.uaa?.key, UAA.key);
    assert.match(c.source, /^service binding .*kv\/auditlog$/);
    assert.equal(c.watchDirectory, join(rootDir, 'auditlog'));
  });

  it('reads the secretKey layout (all credentials in one key) and the secretRootKey layout', async () => {
    const secretKey = await binding('secret-key', {
      '.metadata': JSON.stringify({
        metaDataProperties: [{ name: 'type', format: 'text' }],
        credentialProperties: [{ name: 'creds', format: 'json', container: true }],
      }),
      type: 'auditlog',
      creds: JSON.stringify({ url: URL_, uaa: UAA }),
    });
    assert.equal((await resolveCredentials(config(), { SERVICE_BINDING_ROOT: secretKey })).uaa?.clientid, UAA.clientid);
    const rootKey = await binding('root-key', {
      binding: JSON.stringify({ url: URL_, uaa: UAA, plan: 'premium', type: 'auditlog', instance_name: 'x' }),
    });
    const c = await resolveCredentials(config(), { SERVICE_BINDING_ROOT: rootKey });
    assert.equal(c.plan, 'premium');
    assert.equal(c.uaa?.certificate, UAA.certificate);
  });

  it('reads plain files without .metadata (as the SAP Cloud SDK for Python resolver does)', async () => {
    const plain = await binding('plain', {
      url: URL_,
      uaa: JSON.stringify({ url: UAA.url, clientid: 'id', clientsecret: 's' }),
    });
    const c = await resolveCredentials(config(), { SERVICE_BINDING_ROOT: plain });
    assert.equal(c.uaa?.clientsecret, 's');
  });

  it('reads VCAP_SERVICES by label, choosing a named binding when asked', async () => {
    const vcap = JSON.stringify({
      auditlog: [
        {
          label: 'auditlog',
          name: 'first',
          plan: 'oauth2',
          credentials: { url: 'https://a.example', uaa: { url: 'https://u', clientid: 'a', clientsecret: 'x' } },
        },
        { label: 'auditlog', name: 'second', plan: 'premium', credentials: { url: URL_, uaa: UAA } },
      ],
    });
    assert.equal((await resolveCredentials(config(), { VCAP_SERVICES: vcap })).url, 'https://a.example');
    const named = await resolveCredentials(config({ binding_name: 'second' }), { VCAP_SERVICES: vcap });
    assert.equal(named.plan, 'premium');
    assert.equal(named.source, 'VCAP_SERVICES (second)');
  });

  it('prefers url and uaa given in the config', async () => {
    const c = await resolveCredentials(
      config({ url: 'https://api.example', uaa: { url: 'https://uaa', clientid: 'c', clientsecret: 's' } }),
      {
        VCAP_SERVICES: JSON.stringify({ auditlog: [{ label: 'auditlog', credentials: { url: URL_, uaa: UAA } }] }),
      },
    );
    assert.equal(c.url, 'https://api.example');
    assert.equal(c.source, 'the exporter config');
  });

  it('says what it looked at, and what is missing, without showing values', async () => {
    await assert.rejects(
      resolveCredentials(config(), { SERVICE_BINDING_ROOT: join(root, 'empty'), VCAP_SERVICES: '{"xsuaa":[]}' }),
      (e: unknown) =>
        e instanceof CredentialsError &&
        /looked at: url\/uaa in the exporter config; bindings of type auditlog under SERVICE_BINDING_ROOT=.*empty; VCAP_SERVICES entries labelled auditlog$/.test(
          e.message,
        ),
    );
    const noCert = await binding('broken', { url: URL_, uaa: JSON.stringify({ ...UAA, key: undefined }) });
    await assert.rejects(resolveCredentials(config(), { SERVICE_BINDING_ROOT: noCert }), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.match(e.message, /x509 credentials need uaa\.certificate and uaa\.key/);
      assert.ok(!e.message.includes('BEGIN'));
      return true;
    });
    // V8's JSON errors quote the text around the error: none of it may reach the message.
    const broken = '{"auditlog":[{"credentials":{"uaa":{"clientsecret":S3cr3tValu3}}}]}';
    await assert.rejects(resolveCredentials(config({ binding: 'vcap' }), { VCAP_SERVICES: broken }), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.equal(e.message, 'VCAP_SERVICES is not valid JSON');
      return true;
    });
    const badMetadata = await binding('bad-metadata', { url: URL_ });
    await writeFile(join(badMetadata, 'auditlog/.metadata'), '{"credentialProperties":[{"name":"uaa", S3cr3tValu3');
    await assert.rejects(resolveCredentials(config(), { SERVICE_BINDING_ROOT: badMetadata }), (e: unknown) => {
      assert.ok(e instanceof CredentialsError, String(e));
      assert.match(e.message, /auditlog\/\.metadata is not valid JSON$/);
      assert.ok(!e.message.includes('S3cr3t'));
      return true;
    });
  });

  it('notices a changed binding', async () => {
    const dir = await binding('fingerprint', { url: URL_ });
    const a = await directoryFingerprint(join(dir, 'auditlog'));
    await writeFile(join(dir, 'auditlog/url'), 'https://other');
    assert.notEqual(await directoryFingerprint(join(dir, 'auditlog')), a);
  });
});
