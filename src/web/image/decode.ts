/**
 * Reading images in a page, where sharp does not run: the same answers as src/io/read.ts
 * gives in Node, from the file's bytes. `inspectImageBytes` reads the header only (size,
 * sample type, pages, pixel size: the same ImageInfo), `readImageBytes` decodes a page
 * into the same Image (uint8 / uint16 / float32, int types as float32 with their source
 * type, alpha dropped), and `readTiffLayoutBytes` lays a TIFF's pages out as channels and
 * z/t planes as tiff-dimensions.ts does. Errors are the same SampleErrors, naming the
 * file and the step: an empty file, a format that is not PNG, JPEG or TIFF, an
 * unsupported sample type, a file cut short, a header claiming more pixels than the
 * decode limit allows (refused before anything is allocated).
 *
 * PNG decodes with fast-png, TIFF with geotiff, JPEG with the browser's own decoder
 * (jpeg.ts: values may differ from libjpeg-turbo's by rounding).
 */
import { SampleError, messageOf } from '../../errors.js';
import { makeImage, type Image } from '../../image/image.js';
import type { DecodeLimit } from '../../io/image-budget.js';
import { refuseOversizedWithin } from '../../io/image-budget.js';
import type { ImageInfo } from '../../io/read.js';
import { layoutFromDescription, type TiffLayout } from '../../io/tiff-axes.js';
import { explainTiffAt } from '../../io/tiff-problems.js';
import { formatOf } from './format.js';
import { decodeJpegRgba, jpegHeader } from './jpeg.js';
import { pageDecodeLimit } from './limit.js';
import { decodePngPixels, pngHeader } from './png.js';
import { decodeTiffPage, readerOf, tiffHeader, tiffPages } from './tiff.js';

export type { ImageInfo } from '../../io/read.js';
export { pageDecodeLimit } from './limit.js';

/** Size, sample type, page count and pixel size of the image in `bytes`, read without decoding pixels. */
export async function inspectImageBytes(bytes: Uint8Array, file: string, step = 'load'): Promise<ImageInfo> {
  const fail = (why: string, cause?: unknown) => new SampleError({ step, file }, why, cause === undefined ? undefined : { cause });
  if (bytes.length === 0) throw fail('the file is empty (0 bytes): expected a PNG, JPEG or TIFF image');
  const format = formatOf(bytes);
  if (format === 'png') {
    const h = pngHeader(bytes);
    if (typeof h === 'string') throw fail(h);
    return { format, width: h.width, height: h.height, channels: h.channels, alpha: h.alpha, dtype: h.depth === 16 ? 'uint16' : 'uint8', sourceDepth: h.depth === 16 ? 'ushort' : 'uchar', pages: 1, calibration: h.calibration };
  }
  if (format === 'jpeg') {
    const h = jpegHeader(bytes);
    if (typeof h === 'string') throw fail(h);
    return { format, width: h.width, height: h.height, channels: h.components === 1 ? 1 : 3, alpha: false, dtype: 'uint8', sourceDepth: 'uchar', pages: 1, calibration: { problems: [] } };
  }
  if (format === 'tiff') {
    const h = await tiffHeader(bytes);
    if (typeof h === 'string') throw fail(h);
    let pages: number;
    try {
      pages = tiffPages(bytes).pages;
    } catch (error) {
      throw fail((await explainTiffAt(readerOf(bytes), bytes.length)) ?? `the image is corrupt or truncated (${messageOf(error)})`, error);
    }
    return {
      format,
      width: h.width,
      height: h.height,
      channels: h.channels,
      alpha: h.alpha,
      dtype: h.dtype,
      ...(h.sourceType ? { sourceType: h.sourceType } : {}),
      sourceDepth: h.sourceDepth,
      pages,
      calibration: h.calibration,
    };
  }
  throw fail('not a readable image: expected PNG, JPEG or TIFF');
}

/**
 * Decodes one page (0-based) of the image in `bytes`. `limit` is the most bytes its
 * samples may take as float32 (pageDecodeLimit: a quarter of what a tab can hold).
 */
export async function readImageBytes(bytes: Uint8Array, file: string, page = 0, step = 'load', info?: ImageInfo, limit: DecodeLimit = pageDecodeLimit()): Promise<Image> {
  const meta = info ?? (await inspectImageBytes(bytes, file, step));
  if (!(Number.isInteger(page) && page >= 0 && page < meta.pages)) {
    throw new SampleError({ step, file }, `page ${page} does not exist: the file has ${meta.pages} page(s)`);
  }
  refuseOversizedWithin(file, step, meta, limit);
  try {
    if (meta.format === 'png') {
      const header = pngHeader(bytes);
      if (typeof header === 'string') throw new Error(header);
      const data = decodePngPixels(bytes, header);
      return data instanceof Uint16Array ? makeImage(header.width, header.height, header.channels, 'uint16', data) : makeImage(header.width, header.height, header.channels, 'uint8', data);
    }
    if (meta.format === 'jpeg') {
      const header = jpegHeader(bytes);
      if (typeof header === 'string') throw new Error(header);
      const rgba = await decodeJpegRgba(bytes, header);
      const data = new Uint8Array(header.width * header.height * meta.channels);
      for (let i = 0; i < header.width * header.height; i++) for (let c = 0; c < meta.channels; c++) data[i * meta.channels + c] = rgba[i * 4 + c];
      return makeImage(header.width, header.height, meta.channels, 'uint8', data);
    }
    const header = await tiffHeader(bytes);
    if (typeof header === 'string') throw new Error(header);
    const { loop } = tiffPages(bytes);
    if (loop) throw new Error(loop);
    const { width, height, data } = await decodeTiffPage(bytes, page, header);
    if (data instanceof Uint8Array) return makeImage(width, height, meta.channels, 'uint8', data);
    if (data instanceof Uint16Array) return makeImage(width, height, meta.channels, 'uint16', data);
    return makeImage(width, height, meta.channels, 'float32', data, meta.sourceType);
  } catch (error) {
    throw await decodeError(bytes, file, step, meta.format, error);
  }
}

/**
 * The layout of a TIFF's pages as channels and z/t planes, from its first
 * ImageDescription; undefined for plain files. Sizes that disagree with the pages are a
 * SampleError naming the file, as in Node.
 */
export async function readTiffLayoutBytes(bytes: Uint8Array, file: string, pages: number, samplesPerPage: number, step = 'load'): Promise<TiffLayout | undefined> {
  const header = await tiffHeader(bytes);
  const description = typeof header === 'string' ? undefined : header.description;
  const layout = layoutFromDescription(description, pages, samplesPerPage, file.slice(file.lastIndexOf('/') + 1));
  if (typeof layout === 'string') throw new SampleError({ step, file }, layout);
  return layout;
}

/** One line saying why the file could not be decoded: from the TIFF's own directory where that tells more. */
async function decodeError(bytes: Uint8Array, file: string, step: string, format: string, error: unknown): Promise<SampleError> {
  if (error instanceof SampleError) return error;
  const message = messageOf(error);
  const explained = format === 'tiff' ? await explainTiffAt(readerOf(bytes), bytes.length).catch(() => undefined) : undefined;
  const why = explained ?? (/^the (TIFF|PNG|JPEG) is truncated|JPEG is decoded by the browser/.test(message) ? message : `the image is corrupt or truncated (${message})`);
  return new SampleError({ step, file }, why, { cause: error });
}
