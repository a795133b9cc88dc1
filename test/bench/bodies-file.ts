import { readFile, writeFile } from 'node:fs/promises';

/**
 * Request bodies handed from the benchmark to the load generator: each body as a 4-byte
 * big-endian length followed by its bytes.
 */
export async function writeBodiesFile(path: string, bodies: readonly Uint8Array[]): Promise<void> {
  const frames: Buffer[] = [];
  for (const body of bodies) {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    frames.push(header, Buffer.from(body.buffer, body.byteOffset, body.length));
  }
  await writeFile(path, Buffer.concat(frames));
}

export async function readBodiesFile(path: string): Promise<Buffer[]> {
  const data = await readFile(path);
  const bodies: Buffer[] = [];
  for (let offset = 0; offset < data.length;) {
    const length = data.readUInt32BE(offset);
    bodies.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return bodies;
}
