/**
 * A small protobuf writer for the messages the sidecar writes: the receiver's responses and rpc
 * Status, and the NG exporter's OTLP requests with their `sap.auditlog.auditevent.v2` bodies.
 */
export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  private varint(value: number | bigint): void {
    if (typeof value === 'number' && value >= 0 && value < 0x80) {
      this.parts.push(SMALL[value]!);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.parts.push(Buffer.from(bytes));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** A varint field; `always` writes 0 too (a member of a oneof, e.g. `google.protobuf.Value.null_value`). */
  int(field: number, value: number | bigint, always = false): this {
    if ((value === 0 || value === 0n) && !always) return this;
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  /** A fixed64 (e.g. OTLP's `time_unix_nano`); 0 is omitted like every proto3 default. */
  fixed64(field: number, value: bigint): this {
    if (value === 0n) return this;
    this.tag(field, 1);
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, value));
    this.parts.push(b);
    return this;
  }

  /** A double; `always` writes 0 too (a member of a oneof, e.g. `google.protobuf.Value.number_value`). */
  double(field: number, value: number, always = false): this {
    if (value === 0 && !always) return this;
    this.tag(field, 1);
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(value);
    this.parts.push(b);
    return this;
  }

  /** A string; `always` writes an empty one too (a member of a oneof). */
  string(field: number, value: string, always = false): this {
    if (value === '' && !always) return this;
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    return this;
  }

  /** Bytes already encoded as fields of this message (e.g. repeated fields encoded ahead). */
  raw(encoded: Buffer): this {
    this.parts.push(encoded);
    return this;
  }

  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** One-byte varints, shared (never written to). */
const SMALL: readonly Buffer[] = Array.from({ length: 0x80 }, (_, i) => Buffer.from([i]));
