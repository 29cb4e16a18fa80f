/**
 * The check's inputs, made the same way where the reference is computed (build.ts, on
 * ONNX Runtime's CPU provider) and where it is compared (the lent machine): tiles cut
 * from the reference slice with mirrored borders, as the pipeline's mirror and tile
 * steps cut them, normalised by the dtype range as the shipped model expects.
 */
import { mirrorIndex } from '../../src/kernels/mirror.js';

/** An 8-bit grey image, row-major. */
export interface Grey {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** The reference files inside the kit's `ref` folder. */
export const REFERENCE_SLICE = 'slice.u8';
export const REFERENCE_SLICE_SIDE = 512;
export const referenceFile = (tile: number) => `forward-${tile}.f32`;
export const REFERENCE_MANIFEST = 'reference.json';

/**
 * The `size` px input tile whose output's top-left pixel is (`y0`, `x0`) of `image`,
 * `margin` px of mirrored context around it, as floats in [0, 1].
 */
export function tileAt(image: Grey, y0: number, x0: number, size: number, margin: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = mirrorIndex(y0 - margin + y, image.height, 'reflect');
    for (let x = 0; x < size; x++) {
      out[y * size + x] = image.data[sy * image.width + mirrorIndex(x0 - margin + x, image.width, 'reflect')] / 255;
    }
  }
  return out;
}

/** `count` tiles of `size` px covering `image` in a grid of outputs `output` px apart, one after another. */
export function tilesCovering(image: Grey, size: number, output: number, margin: number): { tiles: Float32Array; count: number } {
  const rows = Math.ceil(image.height / output);
  const cols = Math.ceil(image.width / output);
  const tiles = new Float32Array(rows * cols * size * size);
  let k = 0;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) tiles.set(tileAt(image, r * output, c * output, size, margin), k++ * size * size);
  return { tiles, count: rows * cols };
}

/** The top-left `side`² of `image`, mirrored where `side` is larger (a large image made of slices). */
export function resized(image: Grey, side: number): Grey {
  const data = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    const sy = mirrorIndex(y, image.height, 'symmetric');
    for (let x = 0; x < side; x++) data[y * side + x] = image.data[sy * image.width + mirrorIndex(x, image.width, 'symmetric')];
  }
  return { width: side, height: side, data };
}

/** The largest absolute difference between two arrays of the same length. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`cannot compare ${a.length} values with ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates as NaN
  }
  return m;
}
