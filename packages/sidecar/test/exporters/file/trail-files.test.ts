import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readTrail, trailOf } from '../../../src/exporters/file/trail-files.js';

const trailFiles = async (path: string) => (await trailOf(path)).files;

describe('audit trail reader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-trail-'));
    const files: Record<string, string | Buffer> = {
      'audit.jsonl': '{"n":5}\n{"n":6',
      'audit-2026-11-21T10-00-00.000.jsonl': '{"n":3}\n',
      'audit-2026-11-21T10-00-00.000.1.jsonl.gz': gzipSync('{"n":4}\n'),
      'audit-2026-11-20T09-00-00.000.jsonl.gz': gzipSync('{"n":1}\n\n{"n":2}\n'),
      'other.jsonl': '{"n":0}\n',
      'audit-notes.jsonl': '{"n":0}\n',
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the rotated files oldest first (plain or gzip), then the active file', async () => {
    assert.deepEqual(
      (await trailFiles(join(dir, 'audit.jsonl'))).map((f) => f.slice(dir.length + 1)),
      [
        'audit-2026-11-20T09-00-00.000.jsonl.gz',
        'audit-2026-11-21T10-00-00.000.jsonl',
        'audit-2026-11-21T10-00-00.000.1.jsonl.gz',
        'audit.jsonl',
      ],
    );
    assert.deepEqual(await trailFiles(join(dir, 'missing', 'audit.jsonl')), []);
  });

  it('streams every line in order with its file and line number; a torn line is not JSON', async () => {
    const out: [string, number, unknown][] = [];
    for await (const l of readTrail(await trailFiles(join(dir, 'audit.jsonl')))) {
      out.push([l.file.slice(dir.length + 1), l.line, l.record]);
    }
    assert.deepEqual(out, [
      ['audit-2026-11-20T09-00-00.000.jsonl.gz', 1, { n: 1 }],
      ['audit-2026-11-20T09-00-00.000.jsonl.gz', 3, { n: 2 }],
      ['audit-2026-11-21T10-00-00.000.jsonl', 1, { n: 3 }],
      ['audit-2026-11-21T10-00-00.000.1.jsonl.gz', 1, { n: 4 }],
      ['audit.jsonl', 1, { n: 5 }],
      ['audit.jsonl', 2, undefined],
    ]);
  });
});
