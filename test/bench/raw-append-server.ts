/**
 * The ceiling for the OTLP/HTTP → file benchmark: a bare node:http server that appends each
 * request body, as received, to one file and answers 200 with an empty body. No decoding, no
 * validation, no JSON. Prints `{"port":N}` on stdout once it listens on 127.0.0.1.
 *
 *   --file=PATH                the file to append to
 *   --mode=append              one write per request, no fsync (page cache only)
 *   --mode=append-fdatasync    bodies of concurrent requests share one write + one fdatasync
 *                              (group commit), answered after the fdatasync, like the sidecar
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requiredOption } from './bench-args.js';

type Writer = (body: Buffer) => Promise<void>;

function appendEach(fh: FileHandle): Writer {
  return async (body) => {
    await fh.write(body);
  };
}

/** Whatever arrives while a write + fdatasync runs goes into the next one. */
function groupCommit(fh: FileHandle): Writer {
  let pending: { body: Buffer; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    flushing = true;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      try {
        await fh.writev(batch.map((p) => p.body));
        await fh.datasync();
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    flushing = false;
  };
  return (body) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ body, resolve, reject });
      if (!flushing) void flush();
    });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(write: Writer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    await write(await readBody(req));
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 }).end();
  } catch (err) {
    res.writeHead(503, { 'Content-Type': 'text/plain' }).end(String(err));
  }
}

const mode = requiredOption('mode');
if (mode !== 'append' && mode !== 'append-fdatasync') throw new Error(`unknown --mode=${mode}`);
const fh = await open(requiredOption('file'), 'a');
const write = mode === 'append' ? appendEach(fh) : groupCommit(fh);
const server = createServer((req, res) => void handle(write, req, res));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
