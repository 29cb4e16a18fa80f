/**
 * What an encoder may be asked for and what each format can hold, apart from sharp so
 * that Node's encoder (write.ts) and the page's (src/web/image/encode.ts) refuse the same
 * data with the same words.
 */
import type { Image } from '../image/image.js';
import type { PixelSize } from '../image/pixel-size.js';
import { describePixelSize, isUsablePixelSize } from './pixel-size.js';
import type { TiffCompression } from './tiff-encode.js';

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

/** The pages as a list, after checking that `format` can hold them; throws saying what to do instead. */
export function encodable(pages: Image | readonly Image[], format: ImageFormat, options: EncodeOptions = {}): readonly Image[] {
  const list = Array.isArray(pages) ? (pages as readonly Image[]) : [pages as Image];
  const { pixelSize } = options;
  if (pixelSize && !isUsablePixelSize(pixelSize)) throw new RangeError(`cannot record a pixel size of ${describePixelSize(pixelSize)}: expected positive numbers`);
  if (format === 'tiff' || format === 'ome-tiff') return list;
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
  return list;
}
