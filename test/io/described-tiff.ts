/**
 * Uncompressed multi-page TIFFs with a given ImageDescription on the first page (OME-XML,
 * ImageJ hyperstacks), for tests of how unetflow lays pages out as channels and z/t
 * planes. Written from the TIFF 6.0 field definitions, independently of the reader
 * under test and of unetflow's own writer (which describes only plain stacks).
 */
export interface DescribedPage {
  readonly width: number;
  readonly height: number;
  /** One sample per pixel (grey), row-major. */
  readonly data: Uint8Array | Uint16Array;
}

/** A little-endian TIFF of `pages`, the first carrying `description`. */
export function describedTiff(pages: readonly DescribedPage[], description?: string): Buffer {
  const chunks: Buffer[] = [];
  let offset = 8;
  const push = (b: Buffer): number => {
    const at = offset;
    const padded = b.length % 2 ? Buffer.concat([b, Buffer.alloc(1)]) : b;
    chunks.push(padded);
    offset += padded.length;
    return at;
  };
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  chunks.push(header);
  const ifds: { buffer: Buffer; at: number }[] = [];
  pages.forEach((page, index) => {
    const bits = page.data.BYTES_PER_ELEMENT * 8;
    const strip = push(Buffer.from(page.data.buffer, page.data.byteOffset, page.data.byteLength));
    const text = index === 0 && description !== undefined ? push(Buffer.from(description + '\0', 'utf8')) : undefined;
    const textLength = Buffer.byteLength(description ?? '', 'utf8') + 1;
    // [tag, type (2 ASCII, 3 SHORT, 4 LONG), count, value or offset]
    const entries: [number, number, number, number][] = [
      [256, 4, 1, page.width],
      [257, 4, 1, page.height],
      [258, 3, 1, bits],
      [259, 3, 1, 1],
      [262, 3, 1, 1],
      ...(text !== undefined ? [[270, 2, textLength, text] as [number, number, number, number]] : []),
      [273, 4, 1, strip],
      [277, 3, 1, 1],
      [278, 4, 1, page.height],
      [279, 4, 1, page.data.byteLength],
      [339, 3, 1, 1],
    ];
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, count, value], i) => {
      const at = 2 + i * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(count, at + 4);
      if (type === 3) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    ifds.push({ buffer: ifd, at: push(ifd) });
  });
  header.writeUInt32LE(ifds[0].at, 4);
  ifds.forEach(({ buffer }, i) => buffer.writeUInt32LE(ifds[i + 1]?.at ?? 0, buffer.length - 4));
  return Buffer.concat(chunks);
}

/** A minimal single-image OME-XML description. */
export function omeDescription(sizes: { c: number; z: number; t: number; order?: string; width: number; height: number; type?: string }): string {
  const { c, z, t, order = 'XYCZT', width, height, type = 'uint8' } = sizes;
  const channels = Array.from({ length: c }, (_, k) => `<Channel ID="Channel:0:${k}" SamplesPerPixel="1"/>`).join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">' +
    `<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="${order}" Type="${type}" SizeX="${width}" SizeY="${height}" SizeC="${c}" SizeZ="${z}" SizeT="${t}" PhysicalSizeX="0.5" PhysicalSizeY="0.5">` +
    `${channels}<TiffData IFD="0" PlaneCount="${c * z * t}"/></Pixels></Image></OME>`
  );
}
