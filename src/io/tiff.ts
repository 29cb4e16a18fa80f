/**
 * A small baseline-TIFF writer: sharp reads float32 TIFF but cannot write it, and
 * probability and weight maps must be saved exactly. Writes one or more pages
 * (an ImageJ/Fiji-readable stack), uint8 / uint16 / float32, any channel count
 * (interleaved), little-endian, Adobe-deflate strips (lossless) or uncompressed,
 * with the pixel size as Fiji or OME readers expect it (tiff-calibration.ts).
 */
import { deflateSync } from 'node:zlib';
import type { Image } from '../image/image.js';
import type { PixelSize } from '../image/pixel-size.js';
import { tiffCalibration } from './tiff-calibration.js';

export type TiffCompression = 'deflate' | 'none';

export interface TiffCalibrationOptions {
  /** Micrometres per pixel, written as an ImageJ description and resolution tags (or OME-XML). @default uncalibrated */
  readonly pixelSize?: PixelSize;
  /** Describe the file in OME-XML (an `.ome.tif`) rather than for ImageJ. @default false */
  readonly ome?: boolean;
}

const BYTES = { uint8: 1, uint16: 2, float32: 4 } as const;
const STRIP_BYTES = 64 * 1024;

// Tag ids and field types of TIFF 6.0.
const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const TAG = {
  NewSubfileType: 254, ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259,
  Photometric: 262, ImageDescription: 270, StripOffsets: 273, SamplesPerPixel: 277, RowsPerStrip: 278,
  StripByteCounts: 279, XResolution: 282, YResolution: 283, PlanarConfiguration: 284, ResolutionUnit: 296,
  ExtraSamples: 338, SampleFormat: 339,
} as const;

type Entry =
  | { tag: number; type: typeof SHORT | typeof LONG; values: number[] }
  | { tag: number; type: typeof RATIONAL; values: [number, number] }
  | { tag: number; type: typeof ASCII; values: Buffer };

/** Encodes pages (all of one dtype) as a TIFF file. */
export function encodeTiff(pages: readonly Image[], compression: TiffCompression = 'deflate', calibration: TiffCalibrationOptions = {}): Buffer {
  const { pixelSize, ome = false } = calibration;
  if (pages.length === 0) throw new RangeError('a TIFF needs at least one page');
  const dtype = pages[0].dtype;
  if (pages.some((p) => p.dtype !== dtype)) throw new TypeError('all pages of a TIFF must have the same dtype');
  const { description, resolution } = tiffCalibration({ ...pages[0], pages: pages.length }, pixelSize, ome);

  const chunks: Buffer[] = [];
  let offset = 8;
  const push = (b: Buffer) => {
    chunks.push(b);
    offset += b.length;
    if (offset % 2) {
      chunks.push(Buffer.alloc(1)); // TIFF offsets must be word-aligned
      offset += 1;
    }
  };
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  chunks.push(header);

  const ifdOffsets: number[] = [];
  const patchNext: { chunk: Buffer; at: number }[] = [];
  for (const [index, page] of pages.entries()) {
    const bytesPerRow = page.width * page.channels * BYTES[dtype];
    const rowsPerStrip = Math.max(1, Math.floor(STRIP_BYTES / bytesPerRow));
    const raw = littleEndianBytes(page);
    const stripOffsets: number[] = [];
    const stripCounts: number[] = [];
    for (let y = 0; y < page.height; y += rowsPerStrip) {
      const rows = raw.subarray(y * bytesPerRow, Math.min(page.height, y + rowsPerStrip) * bytesPerRow);
      const data = compression === 'deflate' ? deflateSync(rows) : Buffer.from(rows);
      stripOffsets.push(offset);
      stripCounts.push(data.length);
      push(data);
    }
    const spp = page.channels;
    const entries: Entry[] = [
      { tag: TAG.NewSubfileType, type: LONG, values: [pages.length > 1 ? 2 : 0] },
      { tag: TAG.ImageWidth, type: LONG, values: [page.width] },
      { tag: TAG.ImageLength, type: LONG, values: [page.height] },
      { tag: TAG.BitsPerSample, type: SHORT, values: Array(spp).fill(BYTES[dtype] * 8) },
      { tag: TAG.Compression, type: SHORT, values: [compression === 'deflate' ? 8 : 1] },
      // RGB for 3 or 4 channels of integers, otherwise grayscale with extra samples.
      { tag: TAG.Photometric, type: SHORT, values: [spp >= 3 && dtype !== 'float32' ? 2 : 1] },
      { tag: TAG.StripOffsets, type: LONG, values: stripOffsets },
      { tag: TAG.SamplesPerPixel, type: SHORT, values: [spp] },
      { tag: TAG.RowsPerStrip, type: LONG, values: [rowsPerStrip] },
      { tag: TAG.StripByteCounts, type: LONG, values: stripCounts },
      { tag: TAG.PlanarConfiguration, type: SHORT, values: [1] },
    ];
    const colour = spp >= 3 && dtype !== 'float32' ? 3 : 1;
    if (spp > colour) entries.push({ tag: TAG.ExtraSamples, type: SHORT, values: Array(spp - colour).fill(0) });
    entries.push({ tag: TAG.SampleFormat, type: SHORT, values: Array(spp).fill(dtype === 'float32' ? 3 : 1) });
    // The description goes on the first page only, where ImageJ and OME readers look for it.
    if (description && index === 0) entries.push({ tag: TAG.ImageDescription, type: ASCII, values: Buffer.from(description + '\0', 'utf8') });
    if (resolution) {
      entries.push({ tag: TAG.XResolution, type: RATIONAL, values: resolution.x }, { tag: TAG.YResolution, type: RATIONAL, values: resolution.y });
      entries.push({ tag: TAG.ResolutionUnit, type: SHORT, values: [resolution.unit] });
    }
    entries.sort((a, b) => a.tag - b.tag); // TIFF 6.0: entries in ascending tag order

    // Values that do not fit in the 4-byte entry go before the IFD.
    const encoded = entries.map(encodeValues);
    const valueOffsets = new Map<Entry, number>();
    entries.forEach((e, i) => {
      if (encoded[i].length > 4) {
        valueOffsets.set(e, offset);
        push(encoded[i]);
      }
    });
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach((e, i) => {
      const at = 2 + i * 12;
      ifd.writeUInt16LE(e.tag, at);
      ifd.writeUInt16LE(e.type, at + 2);
      ifd.writeUInt32LE(e.type === RATIONAL ? 1 : e.values.length, at + 4);
      const external = valueOffsets.get(e);
      if (external !== undefined) ifd.writeUInt32LE(external, at + 8);
      else encoded[i].copy(ifd, at + 8);
    });
    ifdOffsets.push(offset);
    patchNext.push({ chunk: ifd, at: ifd.length - 4 });
    push(ifd);
  }
  header.writeUInt32LE(ifdOffsets[0], 4);
  patchNext.forEach(({ chunk, at }, i) => chunk.writeUInt32LE(ifdOffsets[i + 1] ?? 0, at));
  if (offset > 0xffffffff) throw new RangeError('image too large for a classic TIFF (4 GiB)');
  return Buffer.concat(chunks);
}

/** A field's values as the file stores them, little-endian. */
function encodeValues(e: Entry): Buffer {
  if (e.type === ASCII) return e.values;
  if (e.type === RATIONAL) {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(e.values[0], 0);
    b.writeUInt32LE(e.values[1], 4);
    return b;
  }
  const b = Buffer.alloc(e.values.length * (e.type === SHORT ? 2 : 4));
  e.values.forEach((v, i) => (e.type === SHORT ? b.writeUInt16LE(v, i * 2) : b.writeUInt32LE(v, i * 4)));
  return b;
}

function littleEndianBytes(image: Image): Uint8Array {
  const d = image.data;
  // Typed arrays use the platform's byte order; every platform Node supports is little-endian.
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
