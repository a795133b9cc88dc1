/**
 * Request bodies that cost a receiver far more memory than their size suggests (issue 16's
 * findings): each is within every configured request limit, so only a memory budget stops it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { anyValue, attributes, encodeLogsRequest } from '../support/otlp-raw.js';

const MiB = 1024 * 1024;

/** OTLP/JSON of `records` audit records with `perRecord` tiny attributes each, about `targetBytes` long. */
export function manyAttributesJson(targetBytes = 20 * MiB - 64 * 1024, perRecord = 2000, randomKeys = false): string {
  // One attribute is about 25 bytes; a random key in every 24th keeps gzip at about 80×, inside
  // the default max_decompression_ratio of 100.
  const attribute = (i: number) =>
    `{"key":"${randomKeys && i % 24 === 0 ? randomBytes(3).toString('base64') : 'k'}","value":{}}`;
  const records: string[] = [];
  let size = 64;
  while (size < targetBytes) {
    const attrs: string[] = [];
    for (let i = 0; i < perRecord && size < targetBytes; i++) {
      const a = attribute(i);
      attrs.push(a);
      size += a.length + 1;
    }
    const record = `{"eventName":"audit.security_event","body":{"stringValue":"x"},"attributes":[${attrs.join(',')}]}`;
    records.push(record);
    size += 80;
  }
  return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${records.join(',')}]}]}]}`;
}

/**
 * The same as a gzip body inside `max_decompression_ratio` (100): about 262 KB that decompress
 * to 20 MiB.
 */
export function manyAttributesGzip(): Buffer {
  return gzipSync(manyAttributesJson(20 * MiB - 64 * 1024, 2000, true));
}

/** OTLP/JSON whose `resourceLogs` holds empty objects: JSON.parse alone grows it 21 times. */
export function emptyObjectsJson(targetBytes = 20 * MiB - 64 * 1024): string {
  return `{"resourceLogs":[${'{},'.repeat(Math.floor(targetBytes / 3))}{}]}`;
}

/** Protobuf: `records` audit records × `perRecord` attributes `{k: "v"}` (10 bytes each on the wire). */
export function manyAttributesProto(records = 820, perRecord = 2000): Buffer {
  const kv = Buffer.from([0x32, 0x08, 0x0a, 0x01, 0x6b, 0x12, 0x03, 0x0a, 0x01, 0x76]);
  const eventName = Buffer.from('audit.security_event');
  const recordBody = Buffer.alloc(perRecord * kv.length);
  for (let i = 0; i < perRecord; i++) kv.copy(recordBody, i * kv.length);
  const record = Buffer.concat([Buffer.from([0x62, eventName.length]), eventName, recordBody]);
  const recordField = Buffer.concat([Buffer.from([0x12]), varint(record.length), record]);
  const scope = Buffer.concat(Array.from({ length: records }, () => recordField));
  const resourceLogs = Buffer.concat([Buffer.from([0x12]), varint(scope.length), scope]);
  return Buffer.concat([Buffer.from([0x0a]), varint(resourceLogs.length), resourceLogs]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/**
 * One record whose body is a string of `bytes` bytes: gzip makes it about a thousandth of that, or,
 * with `randomEvery`, a random letter every so many keeps it near 80 times (inside the ratio limit).
 */
export function hugeStringProto(bytes = 20 * MiB - 1024, randomEvery = 0): Buffer {
  const text = Buffer.alloc(bytes, 'a');
  if (randomEvery > 0) {
    const noise = randomBytes(Math.ceil(bytes / randomEvery));
    for (let i = 0, j = 0; i < bytes; i += randomEvery, j++) text[i] = 0x61 + (noise[j]! % 26);
  }
  return encodeLogsRequest({
    resourceLogs: [
      {
        scopeLogs: [{ logRecords: [{ eventName: 'audit.security_event', body: anyValue(text.toString('latin1')) }] }],
      },
    ],
  });
}

/** A valid request of `n` security events of about `recordBytes` each; returns its uuids too. */
export function largeValidBatch(n = 10_000, recordBytes = 1770): { body: Buffer; uuids: string[] } {
  const uuids = Array.from({ length: n }, () => randomUUID());
  const data = 'd'.repeat(Math.max(1, recordBytes - 130));
  const now = String(BigInt(Date.now()) * 1_000_000n);
  const body = encodeLogsRequest({
    resourceLogs: [
      {
        resource: { attributes: attributes({ 'service.name': 'memory-fault' }) },
        scopeLogs: [
          {
            logRecords: uuids.map((uuid) => ({
              timeUnixNano: now,
              eventName: 'audit.security_event',
              body: anyValue(data),
              attributes: attributes({ 'log.record.uid': uuid, 'client.address': '10.1.2.3' }),
            })),
          },
        ],
      },
    ],
  });
  return { body, uuids };
}
