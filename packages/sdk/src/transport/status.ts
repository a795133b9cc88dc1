/** Minimal readers for `google.rpc.Status` and `google.rpc.RetryInfo` (error bodies and gRPC trailers). */

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated');
    const b = buf[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Iterates the (field, wire type, value) triples of a message; length-delimited values are sub-arrays. */
function* fields(buf: Uint8Array): Generator<[number, number, number | Uint8Array]> {
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const wt = tag & 7;
    if (wt === 0) {
      const [v, q] = readVarint(buf, pos);
      pos = q;
      yield [tag >>> 3, wt, v];
    } else if (wt === 2) {
      const [len, q] = readVarint(buf, pos);
      yield [tag >>> 3, wt, buf.subarray(q, q + len)];
      pos = q + len;
    } else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else throw new Error('unsupported wire type');
  }
}

/** The `message` of an OTLP error body (protobuf or JSON `google.rpc.Status`), or the raw text. */
export function decodeStatusMessage(body: Uint8Array, contentType: string): string {
  if (body.length === 0) return '';
  try {
    if (contentType.includes('json')) {
      const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as { message?: unknown };
      return typeof parsed.message === 'string' ? parsed.message : '';
    }
    if (contentType.includes('protobuf')) {
      for (const [field, , value] of fields(body)) {
        if (field === 2 && value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
      }
      return '';
    }
  } catch {
    // Not a Status: fall through to the text.
  }
  return Buffer.from(body.subarray(0, 500)).toString('utf8');
}

/** The RetryInfo delay (ms) in a serialized `google.rpc.Status`, if any. */
export function retryDelayFromStatus(status: Uint8Array): number | undefined {
  try {
    for (const [field, , any] of fields(status)) {
      if (field !== 3 || !(any instanceof Uint8Array)) continue;
      let typeUrl = '';
      let value: Uint8Array | undefined;
      for (const [f, , v] of fields(any)) {
        if (f === 1 && v instanceof Uint8Array) typeUrl = Buffer.from(v).toString('utf8');
        if (f === 2 && v instanceof Uint8Array) value = v;
      }
      if (!typeUrl.endsWith('google.rpc.RetryInfo') || value === undefined) continue;
      for (const [f, , duration] of fields(value)) {
        if (f !== 1 || !(duration instanceof Uint8Array)) continue;
        let seconds = 0;
        let nanos = 0;
        for (const [g, , v] of fields(duration)) {
          if (g === 1 && typeof v === 'number') seconds = v;
          if (g === 2 && typeof v === 'number') nanos = v;
        }
        return seconds * 1000 + Math.round(nanos / 1e6);
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
