/**
 * Encoding and saving images. Lossless unless asked: PNG (8/16-bit) and deflate TIFF
 * (any dtype, several pages); JPEG only when requested by name. A known pixel size
 * goes into TIFF (ImageJ description and resolution tags, or OME-XML for `ome-tiff`
 * and `.ome.tif` names) and into PNG's pHYs chunk.
 */
import sharp from 'sharp';
import type { Image } from '../image/image.js';
import { writeFileAtomic } from './atomic.js';
import { encodable, type EncodeOptions, type ImageFormat } from './image-format.js';
import { withPngDensity } from './png-density.js';
import { encodeTiff } from './tiff.js';

export { extensionOf, type EncodeOptions, type ImageFormat } from './image-format.js';

/** Encodes one image, or several pages (TIFF only). */
export async function encodeImage(
  pages: Image | readonly Image[],
  format: ImageFormat,
  options: EncodeOptions = {},
): Promise<Buffer> {
  const list = encodable(pages, format, options);
  const { compression, pixelSize } = options;
  if (format === 'tiff' || format === 'ome-tiff') return encodeTiff(list, compression, { pixelSize, ome: format === 'ome-tiff' });
  const image = list[0];
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
