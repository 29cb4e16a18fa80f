/**
 * Overlap-tile geometry (paper, Fig. 2) as pure functions: which tiles cover an image,
 * how far it must be mirrored first, and where each tile's output goes back.
 *
 * Coordinates: output positions are in the original image; input tiles are cut from
 * the image mirrored by `padding`, where original (y, x) sits at (y + top, x + left).
 */
import type { Margins } from './mirror.js';

/**
 * - `valid`: an unpadded network maps an input tile of `input` px to the centre
 *   `output` px (572 -> 388 for the paper's network; margin (input - output) / 2 = 92).
 *   Without `align`, output tiles abut and the last row and column are shifted back
 *   inside the image. With `align` (a U-Net's 2^depth, 16 for the paper's), every tile
 *   starts at a multiple of it: each tile then pools on the grid a single tile over
 *   the whole mirrored image would, so every pixel gets the probabilities that tile
 *   would give it, whatever the tile size. Neighbours overlap by output mod align px
 *   (4 at 388) and the last row and column reach past the image into more mirroring.
 * - `same`: a same-padded network maps a `tile` to a tile of the same size; tiles
 *   overlap by `overlap` px and are blended with `window` (as MONAI's sliding window).
 */
export type TileGeometry =
  | { readonly kind: 'valid'; readonly input: number; readonly output: number; readonly align?: number }
  | {
      readonly kind: 'same';
      readonly tile: number;
      readonly overlap: number;
      readonly window: BlendWindow;
    };

/** `gaussian`: exp(-d² / 2σ²) with σ = tile / 8 around the tile centre (MONAI's default). */
export type BlendWindow = 'uniform' | 'gaussian';

export interface TileGrid {
  readonly geometry: TileGeometry;
  /** Size of the original image. */
  readonly height: number;
  readonly width: number;
  /** Mirroring the input needs before tiles are cut. */
  readonly padding: Margins;
  /** Input tile size (square). */
  readonly inputSize: number;
  /** Output tile size (square). */
  readonly outputSize: number;
  /** Top edge of each tile row's output, in original coordinates (also its input's top in padded coordinates). */
  readonly rows: readonly number[];
  /** Left edge of each tile column's output, likewise. */
  readonly cols: readonly number[];
  readonly count: number;
}

/** Throws a RangeError naming the problem when a geometry cannot work. */
export function checkGeometry(g: TileGeometry): void {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`tile geometry: ${name} must be an integer >= ${min}, got ${v}`);
  };
  if (g.kind === 'valid') {
    int('input', g.input, 1);
    int('output', g.output, 1);
    if (g.output > g.input) throw new RangeError(`tile geometry: output ${g.output} is larger than input ${g.input}`);
    if ((g.input - g.output) % 2 !== 0) {
      throw new RangeError(
        `tile geometry: input ${g.input} - output ${g.output} must be even (the margin is cut equally on both sides)`,
      );
    }
    if (g.align !== undefined) {
      int('align', g.align, 1);
      if (g.output < g.align) throw new RangeError(`tile geometry: output ${g.output} is smaller than the alignment ${g.align}: tiles could not advance`);
    }
  } else {
    int('tile', g.tile, 1);
    int('overlap', g.overlap, 0);
    if (g.overlap >= g.tile) throw new RangeError(`tile geometry: overlap ${g.overlap} must be smaller than tile ${g.tile}`);
  }
}

/**
 * Start positions of tiles of `size` with `stride` covering [0, n): the last one ends
 * at n, or with `onStride` it starts on the stride too (and may end past n).
 */
export function tileStarts(n: number, size: number, stride: number, onStride = false): number[] {
  if (n <= size) return [0];
  const count = Math.ceil((n - size) / stride) + 1;
  const starts: number[] = [];
  for (let i = 0; i < count - 1; i++) starts.push(i * stride);
  starts.push(onStride ? (count - 1) * stride : n - size);
  return starts;
}

/** Stride and whether tiles stay on it, for a geometry. */
export function tileStride(geometry: TileGeometry): { stride: number; onStride: boolean } {
  if (geometry.kind === 'same') return { stride: geometry.tile - geometry.overlap, onStride: false };
  const align = geometry.align ?? 1;
  return { stride: geometry.output - (geometry.output % align), onStride: align > 1 };
}

export function tileGrid(height: number, width: number, geometry: TileGeometry): TileGrid {
  checkGeometry(geometry);
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new RangeError(`cannot tile a ${width}x${height} image`);
  }
  const inputSize = geometry.kind === 'valid' ? geometry.input : geometry.tile;
  const outputSize = geometry.kind === 'valid' ? geometry.output : geometry.tile;
  const margin = (inputSize - outputSize) / 2;
  const { stride, onStride } = tileStride(geometry);
  const rows = tileStarts(height, outputSize, stride, onStride);
  const cols = tileStarts(width, outputSize, stride, onStride);
  // Tiles reaching past the image (one larger than it, or the last on the stride) get
  // mirrored input; stitching crops their output back.
  const padding: Margins = {
    top: margin,
    left: margin,
    bottom: margin + rows[rows.length - 1] + outputSize - height,
    right: margin + cols[cols.length - 1] + outputSize - width,
  };
  return { geometry, height, width, padding, inputSize, outputSize, rows, cols, count: rows.length * cols.length };
}

/** Per-pixel blending weights along one axis of a tile. */
export function blendWindow(size: number, window: BlendWindow): Float64Array {
  const w = new Float64Array(size).fill(1);
  if (window === 'gaussian') {
    const centre = (size - 1) / 2;
    const sigma = size / 8;
    for (let i = 0; i < size; i++) w[i] = Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma));
  }
  return w;
}
