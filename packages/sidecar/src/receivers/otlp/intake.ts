import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { ConsumeResult, LogsConsumer } from '../../model/consume.js';
import type { DecodeLimits, RecordLimits } from '../../model/limits.js';
import { LeaseMeter, type MemoryLease } from '../../model/memory-budget.js';
import type { LogsRequest } from '../../model/otlp-logs.js';
import { jsonParseCost, decodeLogsRequestJson } from '../../otlp/decode-json.js';
import { ReceiverError } from './errors.js';

/*
 * What both protocols do with a request body once it is received, within the intake memory budget:
 * decompress it under the size and ratio limits, and decode it. Each step takes its memory from the
 * request's lease before it allocates it, so a request that would not fit is refused before it costs
 * the memory.
 */

const gunzipAsync = promisify<InputType, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);

export type Compression = 'gzip' | 'deflate';

/** A compressed body may always grow to this size, whatever `max_decompression_ratio` says. */
const MIN_DECOMPRESSED_LIMIT = 64 * 1024;

/**
 * Memory charged per byte of a (decompressed) body for the strings decoded from it and the copies
 * that validating and storing its records make (the SAP message, the local record JSON, the spool
 * entry). Measured upper bound; see the receiver README.
 */
export const BODY_COST_PER_BYTE = 6;

/**
 * Decompresses `raw`, bounded by `maxBody` and by `ratio` times its size (decompression bombs), and
 * by the memory budget: zlib gathers its output in chunks and copies them into one buffer at the
 * end, so the lease takes twice the largest allowed output before, and keeps twice the real one.
 */
export async function decompressBody(
  raw: Buffer,
  compression: Compression,
  maxBody: number,
  ratio: number,
  lease: MemoryLease,
): Promise<Buffer> {
  const limit = Math.min(maxBody, Math.max(MIN_DECOMPRESSED_LIMIT, raw.length * ratio));
  const before = lease.bytes();
  lease.take(2 * limit, `decompressing a ${compression} body (up to ${limit} bytes)`);
  let out: Buffer;
  try {
    const opts = { maxOutputLength: limit };
    out = await (compression === 'gzip' ? gunzipAsync(raw, opts) : inflateAsync(raw, opts));
  } catch (err) {
    lease.shrinkTo(before);
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw limit < maxBody
        ? new ReceiverError(
            'too-large',
            `body decompresses to more than ${ratio} times its size (max_decompression_ratio)`,
          )
        : new ReceiverError('too-large', `decompressed body exceeds the limit of ${maxBody} bytes`);
    }
    throw new ReceiverError('bad-request', `cannot decompress ${compression} body: ${(err as Error).message}`);
  }
  lease.shrinkTo(before + 2 * out.length);
  return out;
}

/**
 * Decodes a JSON request body, metering what decoding, validating and storing it will cost: the
 * strings (by the body's size), what `JSON.parse` builds (bounded before it runs), and the records
 * and attributes taken from the lease as they are decoded, which stops the decoder as soon as the
 * estimate passes what the budget has left.
 */
export function decodeJsonBody(body: Buffer, limits: DecodeLimits, lease: MemoryLease): LogsRequest {
  lease.take(BODY_COST_PER_BYTE * body.length, 'decoding the body');
  // JSON text is UTF-8 (RFC 8259); decoding would replace bad bytes without a trace.
  if (!isUtf8(body)) throw new ReceiverError('bad-request', 'the JSON body is not valid UTF-8');
  lease.take(jsonParseCost(body), 'parsing the JSON body');
  return decodeLogsRequestJson(body.toString('utf8'), limits, new LeaseMeter(lease, 'the request'));
}

/**
 * Hands a binary request body to the consumer, which decodes and stores it, within the budget: its
 * strings and copies are charged by the body's size before, and the records it decodes into objects
 * (those the protobuf fast path leaves to the reference decoder) taken from the lease as they are
 * decoded, up to what the budget has left.
 */
export async function consumeProtoBody(
  consumer: LogsConsumer,
  body: Buffer,
  limits: DecodeLimits,
  recordLimits: RecordLimits,
  lease: MemoryLease,
): Promise<ConsumeResult> {
  lease.take(BODY_COST_PER_BYTE * body.length, 'decoding the body');
  return await consumer.consumeProto(body, limits, recordLimits, new LeaseMeter(lease, 'the request'));
}
