import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DeadLetterStore } from '../../src/deadletter/dead-letter-store.js';
import type { DeadLetter } from '../../src/model/dead-letter.js';
import { FaultyDisk } from '../exporters/file/faulty-disk.js';

const letter = (n: number): DeadLetter => ({
  time: '2026-11-21T10:00:00.000Z',
  exporter: 'sap_auditlog',
  reason: `rejected ${n} ${'x'.repeat(40)}`,
  uuid: `uuid-${n}`,
  event_name: 'audit.test',
});
const line = (n: number) => `${JSON.stringify(letter(n))}\n`;

describe('dead-letter store on a failing disk', () => {
  let dir: string;
  let disk: FaultyDisk;
  let store: DeadLetterStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-dead-letter-faults-'));
    disk = new FaultyDisk();
    store = new DeadLetterStore(join(dir, 'dead-letter'), disk.open);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const path = () => store.pathFor('sap_auditlog');

  /** The file holds exactly these lines, each a dead letter. */
  async function assertLines(expected: string): Promise<void> {
    const text = await readFile(path(), 'utf8');
    assert.equal(text, expected);
    assert.ok(!text.includes('\0'), 'no NUL bytes');
    for (const l of text.split('\n').filter((l) => l !== '')) assert.ok((JSON.parse(l) as DeadLetter).uuid);
  }

  it('writes the rest of dead letters that the file system writes only in part', async () => {
    disk.maxPerWrite = 7;
    await store.write('sap_auditlog', [letter(1), letter(2)]);
    await Promise.all([store.write('sap_auditlog', [letter(3)]), store.write('sap_auditlog', [letter(4)])]);
    assert.ok(disk.shortWrites > 0);
    await assertLines(line(1) + line(2) + line(3) + line(4));
  });

  it('rejects a write that runs out of space, cuts the file back, and writes well-formed lines later', async () => {
    await store.write('sap_auditlog', [letter(1)]);
    disk.space = 10; // part of the next letter fits, then ENOSPC
    await assert.rejects(store.write('sap_auditlog', [letter(2), letter(3)]), { code: 'ENOSPC' });
    await assertLines(line(1));
    await assert.rejects(store.write('sap_auditlog', [letter(2)]), { code: 'ENOSPC' });
    await assertLines(line(1));
    disk.space = Infinity;
    await store.write('sap_auditlog', [letter(2), letter(3)]);
    await store.write('sap_auditlog', [letter(4)]);
    await assertLines(line(1) + line(2) + line(3) + line(4));
  });

  it('cuts the lines back when fdatasync fails', async () => {
    await store.write('sap_auditlog', [letter(1)]);
    disk.failDatasync = 1;
    await assert.rejects(store.write('sap_auditlog', [letter(2)]), { code: 'EIO' });
    await assertLines(line(1));
    await store.write('sap_auditlog', [letter(2)]);
    await assertLines(line(1) + line(2));
  });

  it('removes a partial line it could not cut back before the next write', async () => {
    await store.write('sap_auditlog', [letter(1)]);
    disk.space = 10;
    disk.failTruncate = 1;
    await assert.rejects(store.write('sap_auditlog', [letter(2)]), { code: 'ENOSPC' });
    assert.equal(await readFile(path(), 'utf8'), line(1) + line(2).slice(0, 10));
    disk.space = Infinity;
    await store.write('sap_auditlog', [letter(2)]);
    await assertLines(line(1) + line(2));
  });

  it('stays writable when a rewrite cannot rename its temp file into place', async () => {
    await store.write('sap_auditlog', [letter(1), letter(2)]);
    const aside = `${path()}.aside`;
    await assert.rejects(
      store.rewrite('sap_auditlog', async () => {
        // A directory in the file's place makes the rename fail (EISDIR); the file itself lives on.
        await rename(path(), aside);
        await mkdir(path());
        await writeFile(join(path(), 'x'), '');
        return [];
      }),
    );
    await store.write('sap_auditlog', [letter(3)]);
    await rm(path(), { recursive: true });
    await rename(aside, path());
    await assertLines(line(1) + line(2) + line(3));
    assert.deepEqual(await readdir(join(dir, 'dead-letter')), ['sap_auditlog.jsonl']);

    // A rewrite that works: later writes go to the new file.
    await store.rewrite('sap_auditlog', async (lines) => lines.filter((l) => l.letter?.uuid !== 'uuid-2'));
    await store.write('sap_auditlog', [letter(4)]);
    await assertLines(line(1) + line(3) + line(4));
  });
});
