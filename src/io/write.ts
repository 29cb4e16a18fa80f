/**
 * Encoding and saving images. Lossless unless asked: PNG (8/16-bit) and deflate TIFF
 * (any dtype, several pages); JPEG only when requested by name. A known pixel size
 * goes into TIFF (ImageJ description and resolution tags, or OME-XML for `ome-tiff`
 * and `.ome.tif` names) and into PNG's pHYs chunk.
 */
import sharp from 'sharp';
import type { Image } from '../image/image.js';
import { writeFileAtomic } from './atomic.js';
import type { PixelSize } from '../image/pixel-size.js';
import { describePixelSize, isUsablePixelSize } from './pixel-size.js';
import { withPngDensity } from './png-density.js';
import { encodeTiff, type TiffCompression } from './tiff.js';

/** `ome-tiff` is TIFF described by OME-XML, named `.ome.tif`. */
export type ImageFormat = 'png' | 'tiff' | 'ome-tiff' | 'jpeg';

export interface EncodeOptions {
  /** TIFF only. @default 'deflate' */
  compression?: TiffCompression;
  /** JPEG only (lossy: never chosen by default). @default 90 */
  quality?: number;
  /** Micrometres per pixel, recorded in TIFF and PNG. @default uncalibrated (a PNG's pHYs then says only that pixels are square) */
  pixelSize?: PixelSize;
}

/** The largest side a baseline JPEG records (16-bit dimensions). */
const JPEG_MAX_SIDE = 65535;

export const extensionOf: Record<ImageFormat, string> = { png: 'png', tiff: 'tif', 'ome-tiff': 'ome.tif', jpeg: 'jpg' };

/** Encodes one image, or several pages (TIFF only). */
export async function encodeImage(
  pages: Image | readonly Image[],
  format: ImageFormat,
  options: EncodeOptions = {},
): Promise<Buffer> {
  const list = Array.isArray(pages) ? (pages as readonly Image[]) : [pages as Image];
  const { compression, pixelSize } = options;
  if (pixelSize && !isUsablePixelSize(pixelSize)) throw new RangeError(`cannot record a pixel size of ${describePixelSize(pixelSize)}: expected positive numbers`);
  if (format === 'tiff' || format === 'ome-tiff') return encodeTiff(list, compression, { pixelSize, ome: format === 'ome-tiff' });
  if (list.length !== 1) throw new RangeError(`${format.toUpperCase()} holds one page, got ${list.length}: save as TIFF`);
  const image = list[0];
  if (image.dtype === 'float32') {
    throw new TypeError(`${format.toUpperCase()} cannot hold float32 data: save it as TIFF, or convert to uint8/uint16 first`);
  }
  if (![1, 3, 4].includes(image.channels)) {
    throw new RangeError(`${format.toUpperCase()} holds 1, 3 or 4 channels, got ${image.channels}: save as TIFF`);
  }
  if (format === 'jpeg' && image.dtype !== 'uint8') throw new TypeError('JPEG holds 8-bit data only: save as PNG or TIFF');
  if (format === 'jpeg' && Math.max(image.width, image.height) > JPEG_MAX_SIDE) {
    throw new RangeError(`JPEG holds at most ${JPEG_MAX_SIDE} px a side, the image is ${image.width}x${image.height}: save as PNG or TIFF`);
  }
  // sharp takes the sample depth from the typed array's class. Its pixel limit (268
  // megapixels by default) guards against decoding a hostile file; these are pixels the
  // run made itself and holds already, which PNG can take up to 2^31 - 1 px a side.
  const input = sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 },
    limitInputPixels: false,
  });
  const space = image.channels === 1 ? (image.dtype === 'uint16' ? 'grey16' : 'b-w') : image.dtype === 'uint16' ? 'rgb16' : 'srgb';
  const coloured = input.toColourspace(space);
  return format === 'png'
    ? withPngDensity(await coloured.png({ compressionLevel: 6 }).toBuffer(), pixelSize)
    : coloured.jpeg({ quality: options.quality ?? 90 }).toBuffer();
}

/** Encodes and writes atomically; a TIFF whose name ends in `.ome.tif` (or `.ome.tiff`) is an OME-TIFF. */
export async function writeImage(
  path: string,
  pages: Image | readonly Image[],
  format: ImageFormat,
  options: EncodeOptions = {},
): Promise<void> {
  const ome = format === 'tiff' && /\.ome\.tiff?$/i.test(path);
  await writeFileAtomic(path, await encodeImage(pages, ome ? 'ome-tiff' : format, options));
}
