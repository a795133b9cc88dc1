import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { GENESIS_PREV, lineHash, parseLink } from '../../../src/exporters/file/chain.js';
import { parseCheckpointText, readCheckpointNotes } from '../../../src/exporters/file/checkpoints.js';
import type { FileExporterConfig } from '../../../src/exporters/file/config.js';
import { FileExporter } from '../../../src/exporters/file/file-exporter.js';
import { generateNoteKeys, openNote, parseVerifier } from '../../../src/exporters/file/signed-note.js';
import { rotatedFiles } from '../../../src/exporters/file/rotating-file.js';
import { trailOf } from '../../../src/exporters/file/trail-files.js';
import { verifyTrail } from '../../../src/exporters/file/verify-trail.js';
import type { SpooledRecord } from '../../../src/model/spooled-record.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { FaultyDisk } from './faulty-disk.js';

const logger = createLogger('silent');

function records(from: number, n: number): SpooledRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const json = JSON.stringify({
      message_uuid: `uuid-${i}`,
      time: '2026-11-21T10:00:00.000Z',
      n: i,
      pad: 'x'.repeat(60),
    });
    return {
      seq: i,
      uuid: `uuid-${i}`,
      eventName: 'audit.security_event',
      eventTime: 0,
      receivedAt: 0,
      tenantSubdomain: undefined,
      splunk: {},
      targets: undefined,
      json,
      jsonBytes: Buffer.from(json),
    };
  });
}

describe('file exporter chain and checkpoints', () => {
  let dir: string;
  let path: string;
  const config = (c: Partial<FileExporterConfig> = {}): FileExporterConfig => ({
    path,
    fsync: true,
    rotation: { max_megabytes: 0.002, max_backups: 0, max_days: 0, localtime: false },
    dedupe_window: 100_000,
    chain: { enabled: true, checkpoint_interval: '5m' },
    sending_queue: { num_consumers: 1, batch_size: 10 },
    retry_on_failure: { initial_interval: '10ms', max_interval: '10ms', multiplier: 1, randomization_factor: 0 },
    ...c,
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-audit-chain-'));
    path = join(dir, 'audit.jsonl');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function trailLines(): Promise<string[]> {
    const t = await trailOf(path);
    const texts = await Promise.all(t.files.map((f) => readFile(f, 'utf8')));
    return texts.join('').split('\n').slice(0, -1);
  }

  it('links every line to the previous line across rotation and restarts, and records stay as given', async () => {
    for (let run = 0; run < 2; run++) {
      const e = new FileExporter('file', config(), logger);
      await e.start();
      for (let b = 0; b < 5; b++) await e.export(records(run * 50 + b * 10, 10));
      await e.shutdown();
    }
    assert.ok((await trailOf(path)).files.length > 3, 'rotated');
    const lines = await trailLines();
    assert.equal(lines.length, 100);
    let prev = GENESIS_PREV;
    for (const [i, l] of lines.entries()) {
      assert.deepEqual(parseLink(l), { n: i, prev });
      const { chain: _chain, ...record } = JSON.parse(l) as Record<string, unknown>;
      assert.equal(JSON.stringify(record), records(i, 1)[0]!.json, 'the record JSON as given, plus the chain field');
      prev = lineHash(l);
    }
    const r = await verifyTrail(await trailOf(path), { verifiers: [], complete: true });
    assert.equal(r.problem, undefined);
    assert.equal(r.records, 100);
  });

  it('writes a checkpoint at each rotation and at shutdown, signed with the configured key', async () => {
    const keys = generateNoteKeys('chain-test');
    await writeFile(join(dir, 'k'), keys.signer);
    const e = new FileExporter(
      'file/x',
      config({ chain: { enabled: true, checkpoint_interval: '5m', signing_key_file: join(dir, 'k') } }),
      logger,
    );
    await e.start();
    for (let b = 0; b < 6; b++) await e.export(records(b * 10, 10));
    await e.shutdown();
    const notes = await readCheckpointNotes(`${path}.checkpoints`);
    const verifier = parseVerifier(keys.verifier);
    const cps = notes.map(({ note }) => {
      const opened = openNote(note!, [verifier]);
      assert.deepEqual(opened.verifiedBy, ['chain-test']);
      return parseCheckpointText(opened.text);
    });
    const rotatedNames = rotatedFiles(join(dir, 'audit.jsonl'), await readdir(dir)).map((f) => basename(f));
    assert.deepEqual(
      cps.filter((c) => c.rotated !== undefined).map((c) => c.rotated),
      rotatedNames,
    );
    const last = cps.at(-1)!;
    const lines = await trailLines();
    assert.equal(last.origin, 'otel-audit/file/x');
    assert.equal(last.size, 60);
    assert.equal(last.hash, lineHash(lines.at(-1)!));
    assert.equal(last.rotated, undefined);
  });

  it('checkpoints at least every checkpoint_interval while records arrive', async () => {
    const e = new FileExporter(
      'file',
      config({
        rotation: { max_megabytes: 0, max_backups: 0, max_days: 0, localtime: false },
        chain: { enabled: true, checkpoint_interval: '50ms' },
      }),
      logger,
    );
    await e.start();
    try {
      await e.export(records(0, 3));
      await new Promise((r) => setTimeout(r, 200));
      const notes = await readCheckpointNotes(`${path}.checkpoints`);
      assert.equal(notes.length, 1, 'one checkpoint: nothing new after it');
      assert.equal(parseCheckpointText(openNote(notes[0]!.note!, []).text).size, 3);
    } finally {
      await e.shutdown();
    }
  });

  it('starts the chain after records written without one, linked to the last of them', async () => {
    const old = `${records(0, 2)
      .map((r) => r.json)
      .join('\n')}\n`;
    await writeFile(path, old);
    const e = new FileExporter('file', config(), logger);
    await e.start();
    await e.export(records(2, 1));
    await e.shutdown();
    const lines = await trailLines();
    assert.deepEqual(parseLink(lines[2]!), { n: 0, prev: lineHash(lines[1]!) });
    const r = await verifyTrail(await trailOf(path), { verifiers: [], complete: true });
    assert.equal(r.problem, undefined);
    assert.equal(r.unchained, 2);
  });

  it('writes plain lines with the chain off', async () => {
    const e = new FileExporter('file', config({ chain: { enabled: false, checkpoint_interval: '5m' } }), logger);
    await e.start();
    await e.export(records(0, 2));
    await e.shutdown();
    assert.equal(
      await readFile(path, 'utf8'),
      `${records(0, 2)
        .map((r) => r.json)
        .join('\n')}\n`,
    );
    assert.deepEqual((await readdir(dir)).sort(), ['audit.jsonl']);
  });

  it('skips records already written, also when they went into a rotated file before a restart', async () => {
    const e = new FileExporter('file', config(), logger);
    await e.start();
    await e.export(records(0, 40));
    await e.shutdown();
    const again = new FileExporter('file', config(), logger);
    await again.start();
    // A restart hands over again what the cursor had not passed: records 0..39 are in rotated files now.
    await again.export(records(0, 45));
    await again.export(records(40, 10));
    await again.shutdown();
    const lines = await trailLines();
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { n: number }).n),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('writes a repeated uuid again with dedupe_window 0, and not within the window otherwise', async () => {
    for (const window of [0, 5]) {
      await rm(dir, { recursive: true, force: true });
      const e = new FileExporter('file', config({ dedupe_window: window }), logger);
      await e.start();
      await e.export(records(0, 3));
      await e.export(records(0, 1)); // uuid-0 again: within a window of 5
      await e.export(records(3, 6));
      await e.export(records(0, 1)); // 9 uuids later: out of a window of 5
      await e.shutdown();
      const ns = (await trailLines()).map((l) => (JSON.parse(l) as { n: number }).n);
      assert.deepEqual(
        ns,
        window === 0 ? [0, 1, 2, 0, 3, 4, 5, 6, 7, 8, 0] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 0],
        `window ${window}`,
      );
    }
  });

  it('keeps the chain whole when a rotation fails for lack of inodes and is retried', async () => {
    const disk = new FaultyDisk();
    const e = new FileExporter('file', config(), logger, disk.open);
    await e.start();
    try {
      await e.export(records(0, 20));
      disk.noInodes = true;
      await assert.rejects(e.export(records(20, 20)), /cannot open the audit file .*ENOSPC/);
      await assert.rejects(e.export(records(20, 20)), /cannot open the audit file .*ENOSPC/);
      disk.noInodes = false;
      await e.export(records(20, 20));
    } finally {
      await e.shutdown();
    }
    const r = await verifyTrail(await trailOf(path), { verifiers: [], complete: true });
    assert.equal(r.problem, undefined);
    assert.equal(r.records, 40);
  });
});
