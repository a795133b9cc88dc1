import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HecToken } from '../../../src/exporters/splunk-hec/token.js';
import { createLogger } from '../../../src/telemetry/logger.js';

const OLD = 'a1b2c3d4-0000-4000-8000-00000000old1';
const NEW = 'a1b2c3d4-0000-4000-8000-00000000new2';

function capturedLogger() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)));
  return { logger: createLogger('debug', stream), lines };
}

describe('splunk_hec token', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-hec-token-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('uses the token from the config as it is', async (t) => {
    const { logger } = capturedLogger();
    const token = await HecToken.load({ token: OLD }, 10, () => assert.fail('no file, no change'), logger);
    t.after(() => token.stop());
    assert.equal(token.current, OLD);
    await token.check();
    token.stop();
  });

  it('reads token_file, picks up a rotated token on its interval, and never logs the token', async () => {
    const file = join(dir, 'rotating');
    await writeFile(file, `${OLD}\n`);
    const { logger, lines } = capturedLogger();
    const seen: string[] = [];
    const token = await HecToken.load({ token_file: file }, 20, (t) => seen.push(t), logger);
    try {
      assert.equal(token.current, OLD);
      await writeFile(file, `  ${NEW}  \n`);
      for (let i = 0; i < 100 && (token.current as string) !== NEW; i++) await sleep(10);
      assert.equal(token.current, NEW);
      assert.deepEqual(seen, [NEW]);
      // A file that becomes unusable keeps the token in use.
      await writeFile(file, '\n');
      await token.check();
      assert.equal(token.current, NEW);
      await rm(file);
      await token.check();
      assert.equal(token.current, NEW);
    } finally {
      token.stop();
    }
    await sleep(20);
    const log = lines.join('\n');
    assert.match(log, /Splunk HEC token changed; using the new one/);
    assert.match(log, /cannot use the changed Splunk HEC token_file; keeping the token loaded before/);
    assert.ok(!log.includes(OLD) && !log.includes(NEW), 'a token appears in the log');
  });

  it('check() looks at the file at once (after HEC refused the token)', async () => {
    const file = join(dir, 'on-refusal');
    await writeFile(file, OLD);
    const { logger } = capturedLogger();
    const token = await HecToken.load({ token_file: file }, 3_600_000, () => undefined, logger);
    try {
      await writeFile(file, NEW);
      await token.check();
      assert.equal(token.current, NEW);
    } finally {
      token.stop();
    }
  });

  it('fails to start with a message that names the file but not its content', async () => {
    const { logger } = capturedLogger();
    await assert.rejects(
      HecToken.load({ token_file: join(dir, 'missing') }, 10, () => undefined, logger),
      /splunk_hec token_file .*missing: cannot read: ENOENT/,
    );
    const empty = join(dir, 'empty');
    await writeFile(empty, ' \n');
    await assert.rejects(
      HecToken.load({ token_file: empty }, 10, () => undefined, logger),
      /token_file .*empty is empty/,
    );
    const two = join(dir, 'two');
    await writeFile(two, `${OLD}\n${NEW}\n`);
    await assert.rejects(
      HecToken.load({ token_file: two }, 10, () => undefined, logger),
      (err: Error) => {
        assert.match(err.message, /holds more than one word/);
        assert.ok(!err.message.includes(OLD) && !err.message.includes(NEW));
        return true;
      },
    );
  });
});
