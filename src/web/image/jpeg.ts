/**
 * JPEG in the page: the header (SOF) read by hand for the size and the components, the
 * pixels by the browser's own decoder (createImageBitmap, drawn on an OffscreenCanvas).
 * JPEG decoders may round the inverse DCT and the colour conversion differently:
 * the page's values may differ from libjpeg-turbo's (sharp's, in Node) by a few levels.
 * EXIF orientation is not applied, as sharp does not apply it either.
 */
export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 3 colour (YCbCr or RGB), 4 CMYK. */
  readonly components: number;
}

/** The header, or a string saying what is wrong. */
export function jpegHeader(bytes: Uint8Array): JpegHeader | string {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return 'the JPEG is corrupt: expected a marker in its header';
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > bytes.length) break;
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      return { width, height, components: bytes[at + 9] };
    }
    if (marker === 0xda || marker === 0xd9) return 'the JPEG is corrupt: it has no frame header (SOF) before its data';
    at += 2 + length;
  }
  return `the JPEG is truncated: its header runs past the end of the file (${bytes.length} bytes) — was the copy cut short?`;
}

interface Canvas2D {
  drawImage(image: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}

/** RGBA pixels from the browser's decoder; throws saying so where there is none (Node). */
export async function decodeJpegRgba(bytes: Uint8Array, header: JpegHeader): Promise<Uint8ClampedArray> {
  const g = globalThis as {
    createImageBitmap?: (blob: Blob, options?: object) => Promise<{ width: number; height: number; close(): void }>;
    OffscreenCanvas?: new (w: number, h: number) => { getContext(kind: '2d', options?: object): Canvas2D | null };
  };
  if (!g.createImageBitmap || !g.OffscreenCanvas) throw new Error('JPEG is decoded by the browser (createImageBitmap and OffscreenCanvas), which this environment lacks');
  const bitmap = await g.createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'none' });
  try {
    const context = new g.OffscreenCanvas(header.width, header.height).getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('the browser gives no 2D canvas to decode the JPEG on');
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, header.width, header.height).data;
  } finally {
    bitmap.close();
  }
}
