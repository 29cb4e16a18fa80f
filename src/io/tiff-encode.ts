/**
 * The TIFF writer of tiff.ts without a compressor of its own, so that Node (node:zlib)
 * and a page (CompressionStream) write the same files: the image is cut into strips
 * (tiffStrips), the host compresses each, and assembleTiff lays out the file. Baseline
 * TIFF, little-endian, one or more pages (an ImageJ/Fiji-readable stack), uint8 / uint16 /
 * float32, any channel count (interleaved), with the pixel size as tiff-calibration.ts
 * writes it.
 */
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
  | { tag: number; type: typeof ASCII; values: Uint8Array };

function rowsPerStrip(page: Image): number {
  return Math.max(1, Math.floor(STRIP_BYTES / (page.width * page.channels * BYTES[page.dtype])));
}

/** The page's uncompressed strips, as the file holds them (little-endian rows). */
export function tiffStrips(page: Image): Uint8Array[] {
  const d = page.data;
  // Typed arrays use the platform's byte order; every platform Node and browsers run on is little-endian.
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const bytesPerRow = page.width * page.channels * BYTES[page.dtype];
  const rows = rowsPerStrip(page);
  const strips: Uint8Array[] = [];
  for (let y = 0; y < page.height; y += rows) strips.push(raw.subarray(y * bytesPerRow, Math.min(page.height, y + rows) * bytesPerRow));
  return strips;
}

/** Checks the pages of one file before any strip is compressed. */
export function checkTiffPages(pages: readonly Image[]): void {
  if (pages.length === 0) throw new RangeError('a TIFF needs at least one page');
  const dtype = pages[0].dtype;
  if (pages.some((p) => p.dtype !== dtype)) throw new TypeError('all pages of a TIFF must have the same dtype');
}

/**
 * The TIFF file of `pages` whose strips (tiffStrips of each page) are `strips`,
 * compressed as `compression` says (zlib streams for `deflate`, as Adobe deflate is).
 */
export function assembleTiff(pages: readonly Image[], strips: readonly (readonly Uint8Array[])[], compression: TiffCompression, calibration: TiffCalibrationOptions = {}): Uint8Array {
  const { pixelSize, ome = false } = calibration;
  checkTiffPages(pages);
  const dtype = pages[0].dtype;
  const { description, resolution } = tiffCalibration({ ...pages[0], pages: pages.length }, pixelSize, ome);

  const chunks: Uint8Array[] = [];
  let offset = 8;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    offset += b.length;
    if (offset % 2) {
      chunks.push(new Uint8Array(1)); // TIFF offsets must be word-aligned
      offset += 1;
    }
  };
  const header = new Uint8Array(8);
  const headerView = new DataView(header.buffer);
  header.set([0x49, 0x49], 0); // II
  headerView.setUint16(2, 42, true);
  chunks.push(header);

  const ifdOffsets: number[] = [];
  const patchNext: { view: DataView; at: number }[] = [];
  for (const [index, page] of pages.entries()) {
    const stripOffsets: number[] = [];
    const stripCounts: number[] = [];
    for (const data of strips[index]) {
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
      { tag: TAG.RowsPerStrip, type: LONG, values: [rowsPerStrip(page)] },
      { tag: TAG.StripByteCounts, type: LONG, values: stripCounts },
      { tag: TAG.PlanarConfiguration, type: SHORT, values: [1] },
    ];
    const colour = spp >= 3 && dtype !== 'float32' ? 3 : 1;
    if (spp > colour) entries.push({ tag: TAG.ExtraSamples, type: SHORT, values: Array(spp - colour).fill(0) });
    entries.push({ tag: TAG.SampleFormat, type: SHORT, values: Array(spp).fill(dtype === 'float32' ? 3 : 1) });
    // The description goes on the first page only, where ImageJ and OME readers look for it.
    if (description && index === 0) entries.push({ tag: TAG.ImageDescription, type: ASCII, values: new TextEncoder().encode(description + '\0') });
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
    const ifd = new Uint8Array(2 + entries.length * 12 + 4);
    const view = new DataView(ifd.buffer);
    view.setUint16(0, entries.length, true);
    entries.forEach((e, i) => {
      const at = 2 + i * 12;
      view.setUint16(at, e.tag, true);
      view.setUint16(at + 2, e.type, true);
      view.setUint32(at + 4, e.type === RATIONAL ? 1 : e.values.length, true);
      const external = valueOffsets.get(e);
      if (external !== undefined) view.setUint32(at + 8, external, true);
      else ifd.set(encoded[i], at + 8);
    });
    ifdOffsets.push(offset);
    patchNext.push({ view, at: ifd.length - 4 });
    push(ifd);
  }
  headerView.setUint32(4, ifdOffsets[0], true);
  patchNext.forEach(({ view, at }, i) => view.setUint32(at, ifdOffsets[i + 1] ?? 0, true));
  if (offset > 0xffffffff) throw new RangeError('image too large for a classic TIFF (4 GiB)');
  const out = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) out.set(c, at), (at += c.length);
  return out;
}

/** A field's values as the file stores them, little-endian. */
function encodeValues(e: Entry): Uint8Array {
  if (e.type === ASCII) return e.values;
  if (e.type === RATIONAL) {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, e.values[0], true);
    v.setUint32(4, e.values[1], true);
    return b;
  }
  const b = new Uint8Array(e.values.length * (e.type === SHORT ? 2 : 4));
  const v = new DataView(b.buffer);
  e.values.forEach((x, i) => (e.type === SHORT ? v.setUint16(i * 2, x, true) : v.setUint32(i * 4, x, true)));
  return b;
}
