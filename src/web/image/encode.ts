/**
 * Encoding images in a page, where sharp does not run: the files `save` writes in Node
 * (src/io/write.ts), from the same checks (image-format.ts) and the same layouts. TIFF
 * is tiff-encode.ts's writer, its strips deflated by the platform's CompressionStream
 * (zlib streams, as node:zlib writes them); PNG is fast-png's with the pHYs Node writes
 * (png-phys.ts); JPEG, asked for by name only, is the browser's (OffscreenCanvas), and
 * written as RGB even for grey images. `encodeOutput` gives each output of `save`
 * (mask, probabilities, instances, overlay, measurements, ...) exactly as in Node.
 */
import { encode as encodePng } from 'fast-png';
import type { Image } from '../../image/image.js';
import { encodable, type EncodeOptions, type ImageFormat } from '../../io/image-format.js';
import { withPngDensityBytes } from '../../io/png-phys.js';
import { encodeOutput as encodeOutputWith, type Encoded, type OutputName } from '../../io/save-outputs.js';
import { assembleTiff, tiffStrips } from '../../io/tiff-encode.js';
import type { Sample } from '../../sample.js';

export { extensionOf, type EncodeOptions, type ImageFormat } from '../../io/image-format.js';
export { mirrored, outputNames, type Encoded, type OutputName } from '../../io/save-outputs.js';

/** Encodes one image, or several pages (TIFF only), as write.ts's encodeImage does in Node. */
export async function encodeImage(pages: Image | readonly Image[], format: ImageFormat, options: EncodeOptions = {}): Promise<Uint8Array> {
  const list = encodable(pages, format, options);
  const { compression = 'deflate', pixelSize } = options;
  if (format === 'tiff' || format === 'ome-tiff') {
    const strips = await Promise.all(list.map((page) => Promise.all(tiffStrips(page).map((rows) => (compression === 'deflate' ? deflate(rows) : rows)))));
    return assembleTiff(list, strips, compression, { pixelSize, ome: format === 'ome-tiff' });
  }
  const image = list[0];
  if (format === 'png') {
    const png = encodePng({ width: image.width, height: image.height, channels: image.channels, depth: image.dtype === 'uint16' ? 16 : 8, data: image.data as Uint8Array | Uint16Array }, { zlib: { level: 6 } });
    return withPngDensityBytes(png, pixelSize);
  }
  return encodeJpeg(image, options.quality ?? 90);
}

/** The file of `save`'s output `name` for `sample` (mirrored() first, as `save` does), in `format` or the output's default. */
export function encodeOutput(name: OutputName, sample: Sample, format?: ImageFormat): Promise<Encoded> {
  return encodeOutputWith(name, sample, format, encodeImage);
}

/** A zlib stream (RFC 1950), what TIFF's Adobe deflate holds. */
async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

interface JpegCanvas {
  getContext(kind: '2d'): { putImageData(data: unknown, x: number, y: number): void } | null;
  convertToBlob(options: { type: string; quality: number }): Promise<Blob>;
}

async function encodeJpeg(image: Image, quality: number): Promise<Uint8Array> {
  const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => JpegCanvas; ImageData?: new (data: Uint8ClampedArray, w: number, h: number) => unknown };
  if (!g.OffscreenCanvas || !g.ImageData) throw new Error('JPEG is encoded by the browser (OffscreenCanvas), which this environment lacks: save as PNG or TIFF');
  const { width, height, channels } = image;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = image.data[i * channels + (channels === 1 ? 0 : c)];
    rgba[i * 4 + 3] = 255; // JPEG has no alpha: dropped as sharp drops it
  }
  const canvas = new g.OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('the browser gives no 2D canvas to encode the JPEG on');
  context.putImageData(new g.ImageData(rgba, width, height), 0, 0);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: quality / 100 })).arrayBuffer());
}
