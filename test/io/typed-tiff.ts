/**
 * Uncompressed single-strip TIFFs of any sample type (int8 ... float64), for tests of
 * files that unetflow's own writer (src/io/tiff.ts) and sharp do not write. Written
 * from the TIFF 6.0 field definitions, independently of the reader under test.
 */
export type TypedPixels = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** SampleFormat 1 unsigned, 2 signed, 3 IEEE float. */
function sampleFormat(data: TypedPixels): number {
  if (data instanceof Float32Array || data instanceof Float64Array) return 3;
  if (data instanceof Int8Array || data instanceof Int16Array || data instanceof Int32Array) return 2;
  return 1;
}

/** A little-endian TIFF holding `data` (interleaved, `channels` per pixel): grey, grey + alpha, RGB or RGBA. */
export function typedTiff(width: number, height: number, channels: number, data: TypedPixels): Buffer {
  if (data.length !== width * height * channels) throw new RangeError(`expected ${width * height * channels} values, got ${data.length}`);
  const bits = data.BYTES_PER_ELEMENT * 8;
  const pixels = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const rgb = channels >= 3;
  // [tag, type (3 SHORT, 4 LONG), values]
  const entries: [number, number, number[]][] = [
    [256, 4, [width]],
    [257, 4, [height]],
    [258, 3, Array(channels).fill(bits)],
    [259, 3, [1]],
    [262, 3, [rgb ? 2 : 1]],
    [273, 4, [0]], // strip offset, patched below
    [277, 3, [channels]],
    [278, 4, [height]],
    [279, 4, [pixels.length]],
    [284, 3, [1]],
    // channels beyond grey or RGB: unassociated alpha
    ...(channels > (rgb ? 3 : 1) ? [[338, 3, Array(channels - (rgb ? 3 : 1)).fill(2)] as [number, number, number[]]] : []),
    [339, 3, Array(channels).fill(sampleFormat(data))],
  ];
  const extraStart = 8 + 2 + entries.length * 12 + 4;
  const extras: Buffer[] = [];
  let extraOffset = extraStart;
  const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
  ifd.writeUInt16LE(entries.length, 0);
  const stripOffsetAt: number[] = [];
  entries.forEach(([tag, type, values], i) => {
    const at = 2 + i * 12;
    ifd.writeUInt16LE(tag, at);
    ifd.writeUInt16LE(type, at + 2);
    ifd.writeUInt32LE(values.length, at + 4);
    const size = values.length * (type === 3 ? 2 : 4);
    const write = (b: Buffer, o: number) => values.forEach((v, k) => (type === 3 ? b.writeUInt16LE(v, o + k * 2) : b.writeUInt32LE(v, o + k * 4)));
    if (size <= 4) {
      write(ifd, at + 8);
      if (tag === 273) stripOffsetAt.push(at + 8);
    } else {
      const b = Buffer.alloc(size + (size % 2));
      write(b, 0);
      ifd.writeUInt32LE(extraOffset, at + 8);
      extras.push(b);
      extraOffset += b.length;
    }
  });
  for (const at of stripOffsetAt) ifd.writeUInt32LE(extraOffset, at);
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  return Buffer.concat([header, ifd, ...extras, pixels]);
}
