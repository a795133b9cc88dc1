import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RotatingFile, type RotationPolicy } from '../../../src/exporters/file/rotating-file.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { FaultyDisk } from './faulty-disk.js';

const logger = createLogger('silent');
const policy: RotationPolicy = { maxBytes: 0, maxBackups: 0, maxAgeMs: 0, localtime: false, fsync: true };
const line = (n: number) => `${JSON.stringify({ n, pad: 'x'.repeat(40) })}\n`;

describe('rotating audit file on a failing disk', () => {
  let dir: string;
  let path: string;
  let disk: FaultyDisk;
  let file: RotatingFile;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-file-faults-'));
    path = join(dir, 'audit.jsonl');
    disk = new FaultyDisk();
    file = new RotatingFile(path, policy, logger, undefined, disk.open);
    await file.open();
  });
  afterEach(async () => {
    await file.close();
    await rm(dir, { recursive: true, force: true });
  });

  const content = () => readFile(path, 'utf8');

  /** The file holds exactly these lines, each valid JSON, and `tail` agrees. */
  async function assertLines(expected: string): Promise<void> {
    const text = await content();
    assert.equal(text, expected);
    assert.ok(!text.includes('\0'), 'no NUL bytes');
    for (const l of text.split('\n').filter((l) => l !== '')) JSON.parse(l);
    assert.equal(await file.tail(1 << 20), expected);
  }

  it('writes the rest of an append that the file system writes only in part', async () => {
    disk.maxPerWrite = 7;
    await file.append(line(1));
    await Promise.all([file.append(line(2)), file.append(line(3))]);
    assert.ok(disk.shortWrites > 0);
    await assertLines(line(1) + line(2) + line(3));
  });

  it('rejects an append that runs out of space, cuts the file back, and appends well-formed lines later', async () => {
    await file.append(line(1));
    disk.space = 10; // part of the next line fits, then ENOSPC
    await assert.rejects(file.append(line(2)), { code: 'ENOSPC' });
    await assertLines(line(1));
    // Still full: must not pad the file with NULs up to a size it never reached.
    await assert.rejects(file.append(line(2)), { code: 'ENOSPC' });
    await assertLines(line(1));
    disk.space = Infinity; // space returns: the batch is retried
    await file.append(line(2));
    await file.append(line(3));
    await assertLines(line(1) + line(2) + line(3));
  });

  it('cuts the lines back when fdatasync fails', async () => {
    await file.append(line(1));
    disk.failDatasync = 1;
    await assert.rejects(file.append(line(2)), { code: 'EIO' });
    await assertLines(line(1));
    await file.append(line(2));
    await assertLines(line(1) + line(2));
  });

  it('removes a partial line it could not cut back before the next append', async () => {
    await file.append(line(1));
    disk.space = 10;
    disk.failTruncate = 1;
    await assert.rejects(file.append(line(2)), { code: 'ENOSPC' });
    assert.equal(await content(), line(1) + line(2).slice(0, 10));
    disk.space = Infinity;
    await file.append(line(2));
    await assertLines(line(1) + line(2));
  });
});

describe('rotating audit file when files cannot be created', () => {
  let dir: string;
  let path: string;
  let disk: FaultyDisk;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-file-inodes-'));
    path = join(dir, 'audit.jsonl');
    disk = new FaultyDisk();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const allLines = async (file: RotatingFile) => {
    const files = [...(await file.backups()), path];
    const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').catch(() => '')));
    return texts.join('');
  };

  it('fails a rotation that cannot create the new file with the path and errno, and recovers when inodes return', async () => {
    const file = new RotatingFile(path, { ...policy, maxBytes: 200 }, logger, undefined, disk.open);
    await file.open();
    try {
      let expected = '';
      for (let i = 0; i < 3; i++) {
        await file.append(line(i));
        expected += line(i);
      }
      disk.noInodes = true;
      for (let attempt = 0; attempt < 3; attempt++) {
        await assert.rejects(file.append(line(3)), (err: NodeJS.ErrnoException) => {
          assert.equal(err.code, 'ENOSPC');
          assert.match(err.message, new RegExp(`cannot open the audit file ${path.replace(/[.]/g, '\\.')}: ENOSPC`));
          return true;
        });
      }
      assert.equal(disk.refusedOpens, 3);
      disk.noInodes = false;
      await file.append(line(3));
      await file.append(line(4));
      expected += line(3) + line(4);
      assert.equal(await allLines(file), expected);
      assert.equal(await readFile(path, 'utf8'), line(3) + line(4));
    } finally {
      await file.close();
    }
  });

  it('goes on appending when reopening the file after a failed rename fails once', async () => {
    const file = new RotatingFile(path, { ...policy, maxBytes: 200 }, logger, undefined, disk.open);
    await file.open();
    try {
      for (let i = 0; i < 3; i++) await file.append(line(i));
      disk.failOpen = 1; // the open of the new file after the rename
      await assert.rejects(file.append(line(3)), { code: 'EMFILE' });
      await file.append(line(3));
      assert.equal(await allLines(file), line(0) + line(1) + line(2) + line(3));
    } finally {
      await file.close();
    }
  });
});
