/**
 * The few pieces of the protocol-buffers wire format that writing an ONNX model needs:
 * varint fields (wire type 0) and length-delimited fields (wire type 2: bytes, strings,
 * nested messages). A message is kept as a list of chunks, so nesting a message only
 * prefixes its tag and length instead of copying its bytes (a 64-filter U-Net's
 * weights are 124 MB); `finish` copies everything once.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** The varint encoding of an integer; negative values take ten bytes (two's complement, as int64). */
export function varint(value: number | bigint): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`protobuf: ${value} is not a safe integer`);
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Uint8Array.from(bytes);
}

function tag(field: number, wireType: number): Uint8Array {
  if (!Number.isInteger(field) || field < 1) throw new RangeError(`protobuf: field numbers start at 1, got ${field}`);
  return varint(field * 8 + wireType);
}

const utf8 = new TextEncoder();

/** A message under construction. Fields are written in call order. */
export class Message {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  /** Encoded length in bytes. */
  get length(): number {
    return this.size;
  }

  /** An integer field (int32, int64, enum, bool as 0/1). */
  int(field: number, value: number | bigint): this {
    return this.push(tag(field, VARINT), varint(value));
  }

  /** A repeated integer field, unpacked (the proto2 default, which ONNX's schema is). */
  ints(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    return this.push(tag(field, LENGTH_DELIMITED), varint(value.length), value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A nested message, its chunks shared rather than copied. */
  message(field: number, value: Message): this {
    this.push(tag(field, LENGTH_DELIMITED), varint(value.size));
    for (const c of value.chunks) this.push(c);
    return this;
  }

  /** The encoded message as one buffer. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }

  private push(...chunks: Uint8Array[]): this {
    for (const c of chunks) {
      this.chunks.push(c);
      this.size += c.length;
    }
    return this;
  }
}
