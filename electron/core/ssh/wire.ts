// The SSH wire encodings of RFC 4251 section 5 (uint32, string, mpint), for reading and writing
// key blobs. Reading never trusts a length field: one that runs past the end is an error the
// caller turns into "this key is damaged", never an out-of-range read.

export class WireError extends Error {}

export class WireReader {
  private offset = 0;

  constructor(private readonly data: Buffer) {}

  uint32(): number {
    if (this.offset + 4 > this.data.length) throw new WireError('ends inside a length field');
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  string(): Buffer {
    const length = this.uint32();
    if (length > this.data.length - this.offset) throw new WireError('a field is longer than what follows it');
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string {
    return this.string().toString('latin1');
  }

  /** An mpint as its big-endian magnitude, without the sign byte; negative numbers are refused. */
  mpint(): Buffer {
    const raw = this.string();
    if (raw.length > 0 && (raw[0]! & 0x80) !== 0) throw new WireError('a number is negative');
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }
}

export class WireWriter {
  private readonly parts: Buffer[] = [];

  uint32(value: number): this {
    const field = Buffer.alloc(4);
    field.writeUInt32BE(value);
    this.parts.push(field);
    return this;
  }

  string(value: Buffer | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    this.uint32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  /** A non-negative integer given as big-endian bytes (leading zeros allowed), in canonical mpint form. */
  mpint(magnitude: Buffer): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const trimmed = magnitude.subarray(start);
    // A set top bit would read as negative, so such a number gets a zero byte in front.
    return this.string(trimmed.length > 0 && (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
  }

  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
