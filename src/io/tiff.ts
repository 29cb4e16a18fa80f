/**
 * A small baseline-TIFF writer: sharp reads float32 TIFF but cannot write it, and
 * probability and weight maps must be saved exactly. The file's layout is
 * tiff-encode.ts's, shared with the page; here its strips are deflated with node:zlib
 * (Adobe deflate, lossless) or left uncompressed.
 */
import { deflateSync } from 'node:zlib';
import type { Image } from '../image/image.js';
import { assembleTiff, checkTiffPages, tiffStrips, type TiffCalibrationOptions, type TiffCompression } from './tiff-encode.js';

export type { TiffCalibrationOptions, TiffCompression } from './tiff-encode.js';

/** Encodes pages (all of one dtype) as a TIFF file. */
export function encodeTiff(pages: readonly Image[], compression: TiffCompression = 'deflate', calibration: TiffCalibrationOptions = {}): Buffer {
  checkTiffPages(pages);
  const strips = pages.map((page) => tiffStrips(page).map((rows) => (compression === 'deflate' ? deflateSync(rows) : rows)));
  const file = assembleTiff(pages, strips, compression, calibration);
  return Buffer.from(file.buffer, file.byteOffset, file.byteLength);
}
