/**
 * Encoding and saving images. Lossless unless asked: PNG (8/16-bit) and deflate TIFF
 * (any dtype, several pages); JPEG only when requested by name.
 */
import sharp from 'sharp';
import type { Image } from '../image/image.js';
import { writeFileAtomic } from './atomic.js';
import { encodeTiff, type TiffCompression } from './tiff.js';

export type ImageFormat = 'png' | 'tiff' | 'jpeg';

export interface EncodeOptions {
  /** TIFF only. @default 'deflate' */
  compression?: TiffCompression;
  /** JPEG only (lossy: never chosen by default). @default 90 */
  quality?: number;
}

export const extensionOf: Record<ImageFormat, string> = { png: 'png', tiff: 'tif', jpeg: 'jpg' };

/** Encodes one image, or several pages (TIFF only). */
export async function encodeImage(
  pages: Image | readonly Image[],
  format: ImageFormat,
  options: EncodeOptions = {},
): Promise<Buffer> {
  const list = Array.isArray(pages) ? (pages as readonly Image[]) : [pages as Image];
  if (format === 'tiff') return encodeTiff(list, options.compression ?? 'deflate');
  if (list.length !== 1) throw new RangeError(`${format.toUpperCase()} holds one page, got ${list.length}: save as TIFF`);
  const image = list[0];
  if (image.dtype === 'float32') {
    throw new TypeError(`${format.toUpperCase()} cannot hold float32 data: save it as TIFF, or convert to uint8/uint16 first`);
  }
  if (![1, 3, 4].includes(image.channels)) {
    throw new RangeError(`${format.toUpperCase()} holds 1, 3 or 4 channels, got ${image.channels}: save as TIFF`);
  }
  if (format === 'jpeg' && image.dtype !== 'uint8') throw new TypeError('JPEG holds 8-bit data only: save as PNG or TIFF');
  // sharp takes the sample depth from the typed array's class.
  const input = sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 },
  });
  const space = image.channels === 1 ? (image.dtype === 'uint16' ? 'grey16' : 'b-w') : image.dtype === 'uint16' ? 'rgb16' : 'srgb';
  const coloured = input.toColourspace(space);
  return format === 'png'
    ? coloured.png({ compressionLevel: 6 }).toBuffer()
    : coloured.jpeg({ quality: options.quality ?? 90 }).toBuffer();
}

/** Encodes and writes atomically. */
export async function writeImage(
  path: string,
  pages: Image | readonly Image[],
  format: ImageFormat,
  options: EncodeOptions = {},
): Promise<void> {
  await writeFileAtomic(path, await encodeImage(pages, format, options));
}
