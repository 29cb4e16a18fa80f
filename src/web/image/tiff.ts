/**
 * TIFF in the page, by geotiff: classic and BigTIFF, strips or tiles, uncompressed,
 * LZW, deflate, packbits (and what else geotiff decodes), one or many pages. The first
 * directory's fields are read as in Node (src/io/tiff-directory.ts), so that sample types,
 * alpha and the pixel size are judged by the same code; values come out as libvips
 * (sharp) gives them: 1, 2 and 4-bit grey scaled to 8 bits, WhiteIsZero inverted,
 * palettes and YCbCr expanded to RGB, the one alpha band libvips sees dropped.
 * Float RGB keeps the file's values: sharp in Node takes 3-band float as scRGB and
 * converts it to sRGB levels (0-255), which no microscope file means.
 */
import { fromArrayBuffer, type GeoTIFF } from 'geotiff';
import type { DType, SourceType } from '../../image/image.js';
import { calibrationFromTiff, type Calibration } from '../../io/pixel-size.js';
import { ascii, integers, rational, readFirstDirectoryOf, thousands } from '../../io/tiff-directory.js';
import { keptAsLibvips } from '../../io/kept-samples.js';
import { sampleTypeProblem, explainTiffAt } from '../../io/tiff-problems.js';

const TAG = {
  ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Photometric: 262, ImageDescription: 270, SamplesPerPixel: 277,
  XResolution: 282, YResolution: 283, ResolutionUnit: 296, SampleFormat: 339,
} as const;

/** More bands than this make libvips refuse the file (sharp: "Input image exceeds channel limit"). */
const MAX_BANDS = 5;

export interface TiffHeader {
  readonly width: number;
  readonly height: number;
  readonly samplesPerPage: number;
  /** Colour channels kept, alpha excluded. */
  readonly channels: number;
  readonly alpha: boolean;
  readonly bits: number;
  readonly photometric: number;
  readonly sourceDepth: string;
  readonly dtype: DType;
  readonly sourceType?: SourceType;
  readonly description?: string;
  readonly calibration: Calibration;
}

/** The first directory's header, or a string saying why it cannot be read. */
export async function tiffHeader(bytes: Uint8Array): Promise<TiffHeader | string> {
  const directory = await readFirstDirectoryOf(bytes, Object.values(TAG));
  if (!directory) return 'the image is corrupt or truncated (its first image directory cannot be read)';
  if ('truncated' in directory) return (await explainTiffAt(readerOf(bytes), bytes.length)) ?? `the TIFF is truncated: ${directory.truncated}`;
  const f = directory.fields;
  const width = integers(f, TAG.ImageWidth)?.[0] ?? 0;
  const height = integers(f, TAG.ImageLength)?.[0] ?? 0;
  const spp = integers(f, TAG.SamplesPerPixel)?.[0] ?? 1;
  const bits = integers(f, TAG.BitsPerSample)?.[0] ?? 1;
  const format = integers(f, TAG.SampleFormat)?.[0] ?? 1;
  const photometric = integers(f, TAG.Photometric)?.[0] ?? 1;
  const unsupported = sampleTypeProblem(bits, format);
  if (unsupported) return unsupported;
  if (width < 1 || height < 1) return `the image is corrupt or truncated (its image directory says ${width} x ${height} px)`;
  const sourceDepth = depthOf(bits, format);
  const kept = sourceDepth && keptAsLibvips(sourceDepth);
  if (!kept) return `${bits}-bit samples of SampleFormat ${format} are not supported in the page: save the image as 8-bit, 16-bit or float32`;
  const bands = photometric === 3 ? 3 : spp;
  if (bands > MAX_BANDS) return 'the image is corrupt or truncated (Input image exceeds channel limit)';
  const colour = photometric === 2 || photometric === 3 || photometric === 6 ? 3 : photometric === 5 ? 4 : 1;
  const alpha = bands > colour;
  return {
    width,
    height,
    samplesPerPage: spp,
    channels: bands - (alpha ? 1 : 0),
    alpha,
    bits,
    photometric,
    sourceDepth,
    ...kept,
    description: ascii(f, TAG.ImageDescription),
    calibration: calibrationFromTiff({
      description: ascii(f, TAG.ImageDescription),
      xResolution: rational(f, TAG.XResolution),
      yResolution: rational(f, TAG.YResolution),
      resolutionUnit: integers(f, TAG.ResolutionUnit)?.[0],
    }),
  };
}

function depthOf(bits: number, format: number): string | undefined {
  if (format === 3) return bits === 32 ? 'float' : undefined;
  const signed = format === 2;
  if (bits < 8) return signed ? undefined : 'uchar';
  return ({ 8: signed ? 'char' : 'uchar', 16: signed ? 'short' : 'ushort', 32: signed ? 'int' : 'uint' } as Record<number, string>)[bits];
}

export function readerOf(bytes: Uint8Array) {
  return async (position: number, length: number) => bytes.subarray(position, position + length);
}

const opened = new WeakMap<Uint8Array, Promise<GeoTIFF>>();

/** geotiff's view of the file, parsed once per byte array. */
export function openTiff(bytes: Uint8Array): Promise<GeoTIFF> {
  let tiff = opened.get(bytes);
  if (!tiff) {
    const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    tiff = fromArrayBuffer(buffer as ArrayBuffer);
    opened.set(bytes, tiff);
  }
  return tiff;
}

/**
 * The number of image directories, counted as libtiff counts them: along the chain of
 * next-directory offsets, stopping at a loop (a hostile file may point a directory at
 * itself, which geotiff would follow forever) or at an offset past the end.
 */
export function tiffPages(bytes: Uint8Array): { readonly pages: number; readonly loop?: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = bytes[0] === 0x49;
  const big = view.getUint16(2, le) === 43;
  const offset = (at: number) => (big ? Number(view.getBigUint64(at, le)) : view.getUint32(at, le));
  const seen: number[] = [];
  let ifd = offset(big ? 8 : 4);
  while (ifd !== 0 && ifd + (big ? 8 : 2) <= bytes.length) {
    const again = seen.indexOf(ifd);
    // libtiff's words, which sharp gives in Node.
    if (again >= 0) return { pages: seen.length, loop: `TIFF directory ${seen.length - 1} has IFD looping to directory ${again} at offset 0x${ifd.toString(16)} (${ifd})` };
    seen.push(ifd);
    const count = big ? Number(view.getBigUint64(ifd, le)) : view.getUint16(ifd, le);
    const next = ifd + (big ? 8 + count * 20 : 2 + count * 12);
    if (next + (big ? 8 : 4) > bytes.length) break;
    ifd = offset(next);
  }
  return { pages: Math.max(1, seen.length) };
}

/** One page's kept samples, interleaved, in the header's dtype; throws saying why it cannot. */
export async function decodeTiffPage(bytes: Uint8Array, page: number, header: TiffHeader): Promise<{ width: number; height: number; data: Uint8Array | Uint16Array | Float32Array }> {
  const image = await (await openTiff(bytes)).getImage(page);
  const directory = image.getFileDirectory();
  const offsets = ((await directory.loadValue('StripOffsets')) ?? (await directory.loadValue('TileOffsets')) ?? []) as ArrayLike<number>;
  const counts = ((await directory.loadValue('StripByteCounts')) ?? (await directory.loadValue('TileByteCounts')) ?? []) as ArrayLike<number>;
  let end = 0;
  for (let i = 0; i < offsets.length; i++) end = Math.max(end, Number(offsets[i]) + Number(counts[i] ?? 0));
  if (end > bytes.length) throw new Error(`the TIFF is truncated: the file has ${thousands(bytes.length)} bytes, the pixel data of page ${page} runs to byte ${thousands(end)} — was the copy cut short?`);
  const width = image.getWidth();
  const height = image.getHeight();
  const pixels = width * height;
  const channels = header.channels;
  const out = header.dtype === 'uint8' ? new Uint8Array(pixels * channels) : header.dtype === 'uint16' ? new Uint16Array(pixels * channels) : new Float32Array(pixels * channels);
  if (header.photometric === 3 || header.photometric === 6) {
    // Palettes and YCbCr (JPEG-compressed TIFF; its JPEG decoder may round differently from libjpeg's) as RGB.
    const rgb = (await image.readRGB({ interleave: true })) as unknown as ArrayLike<number>;
    for (let i = 0; i < pixels * 3; i++) out[i] = rgb[i];
    return { width, height, data: out };
  }
  const raster = (await image.readRasters({ interleave: true })) as unknown as ArrayLike<number>;
  const spp = image.getSamplesPerPixel();
  const max = 2 ** header.bits - 1;
  const scale = header.bits < 8 ? 255 / max : 1;
  const invert = header.photometric === 0 && header.bits <= 16 && header.sourceDepth !== 'char' && header.sourceDepth !== 'short';
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < channels; c++) {
      const v = raster[i * spp + c];
      out[i * channels + c] = (invert ? max - v : v) * scale;
    }
  }
  return { width, height, data: out };
}
