/**
 * PNG in the page: the header read by hand (size and sample type before anything is
 * decoded, so that the decode limit can refuse a huge one), pixels by fast-png. Values
 * come out as libvips (sharp) gives them in Node: 16-bit as 16-bit, palettes expanded,
 * grey of 1, 2 or 4 bits scaled to 8 (x255, x85, x17), alpha dropped.
 */
import { decode, type DecodedPng } from 'fast-png';
import { calibrationFromPhys, type Calibration } from '../../io/pixel-size.js';
import { pngDensityOf } from '../../io/png-phys.js';

export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGB + alpha. */
  readonly colourType: number;
  /** Colour channels, alpha excluded. */
  readonly channels: number;
  readonly alpha: boolean;
  readonly calibration: Calibration;
}

/** The header, or a string saying what is wrong with it. */
export function pngHeader(bytes: Uint8Array): PngHeader | string {
  if (bytes.length < 33) return `the PNG is truncated: it has ${bytes.length} bytes, its header needs 33 — was the copy cut short?`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return 'the PNG is corrupt: its first chunk is not IHDR';
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const colourType = bytes[25];
  if (width === 0 || height === 0) return `the PNG is corrupt: its header says ${width} x ${height} px`;
  const colour = colourType === 0 || colourType === 4 ? 1 : colourType === 2 || colourType === 3 || colourType === 6 ? 3 : 0;
  if (!colour) return `the PNG is corrupt: its header gives colour type ${colourType}`;
  return { width, height, depth, colourType, channels: colour, alpha: colourType === 4 || colourType === 6 || hasTransparency(bytes), calibration: calibrationFromPhys(pngDensityOf(bytes)) };
}

/** Whether a tRNS chunk comes before the pixels (libvips then adds an alpha channel). */
function hasTransparency(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8, k = 0; k < 64 && at + 8 <= bytes.length; k++) {
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'tRNS') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    at += 12 + view.getUint32(at);
  }
  return false;
}

/** The image's colour samples, interleaved: Uint8Array for 8 bits or fewer, Uint16Array for 16. Throws fast-png's error on a corrupt or cut file. */
export function decodePngPixels(bytes: Uint8Array, header: PngHeader): Uint8Array | Uint16Array {
  const png = decode(bytes);
  const { width, height, channels } = header;
  const out = png.depth === 16 ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  const stored = png.channels;
  const samples = png.depth < 8 ? unpack(png, width, height) : png.data;
  if (png.palette) {
    const palette = png.palette;
    for (let i = 0; i < width * height; i++) {
      const entry = palette[samples[i]] ?? [0, 0, 0];
      for (let c = 0; c < channels; c++) out[i * channels + c] = entry[c];
    }
    return out;
  }
  const scale = png.depth < 8 ? 255 / (2 ** png.depth - 1) : 1;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < channels; c++) out[i * channels + c] = samples[i * stored + c] * scale;
  }
  return out;
}

/** Samples of fewer than 8 bits, one per byte (rows start on a byte). */
function unpack(png: DecodedPng, width: number, height: number): Uint8Array {
  const bits = png.depth;
  const perRow = width * png.channels;
  const rowBytes = Math.ceil((perRow * bits) / 8);
  const mask = 2 ** bits - 1;
  const out = new Uint8Array(perRow * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * bits;
      out[y * perRow + x] = (png.data[y * rowBytes + (bit >> 3)] >> (8 - bits - (bit & 7))) & mask;
    }
  }
  return out;
}
