/**
 * Puts output tiles back together. Tiles may arrive in any order; the result has
 * exactly the original image's size.
 */
import { allocate, makeImage, type DType, type Image } from '../image/image.js';
import { blendWindow, type TileGrid } from './tiling.js';

export interface Stitcher<D extends DType = DType> {
  /** Adds the output of tile `index`; returns true once every tile is in. */
  add(index: number, tile: Image): boolean;
  readonly received: number;
  /** The stitched image; only once complete. */
  result(): Image<D>;
}

/**
 * Valid geometry: each tile's `outputSize` square is copied to its place (tiles of
 * the shifted last row/column overwrite the overlap). A tile still at `inputSize`
 * (an image that went through no network) is centre-cropped first, which makes
 * tile -> stitch an exact identity.
 *
 * Same geometry: tiles are blended, each pixel the window-weighted mean of the tiles
 * covering it. The grid is cartesian and the window separable, so the weight sum is
 * the product of two 1-D sums and no weight image is stored. Sums are float64 so
 * that blending identical values gives back exactly those values.
 */
export function createStitcher<D extends DType>(grid: TileGrid, channels: number, dtype: D): Stitcher<D> {
  const { height: H, width: W, outputSize: O } = grid;
  const seen = new Uint8Array(grid.count);
  let received = 0;
  const blend = grid.geometry.kind === 'same' ? grid.geometry.window : undefined;
  const out = blend ? undefined : allocate(dtype, H * W * channels);
  const acc = blend ? new Float64Array(H * W * channels) : undefined;
  const window = blend ? blendWindow(O, blend) : undefined;

  const place = (index: number, tile: Image) => {
    if (tile.channels !== channels) {
      throw new RangeError(`stitch: tile ${index} has ${tile.channels} channels, the first had ${channels}`);
    }
    let offset = 0;
    if (tile.width === O && tile.height === O) offset = 0;
    else if (tile.width === grid.inputSize && tile.height === grid.inputSize) offset = (grid.inputSize - O) / 2;
    else {
      throw new RangeError(
        `stitch: tile ${index} is ${tile.width}x${tile.height}, expected ${O}x${O}` +
          (grid.inputSize !== O ? ` (or ${grid.inputSize}x${grid.inputSize} before the network)` : ''),
      );
    }
    const y0 = grid.rows[Math.floor(index / grid.cols.length)];
    const x0 = grid.cols[index % grid.cols.length];
    const h = Math.min(O, H - y0);
    const w = Math.min(O, W - x0);
    const c = channels;
    const src = tile.data;
    for (let ty = 0; ty < h; ty++) {
      const from = ((ty + offset) * tile.width + offset) * c;
      const to = ((y0 + ty) * W + x0) * c;
      if (out) {
        out.set(src.subarray(from, from + w * c), to);
      } else {
        const wy = window![ty];
        for (let tx = 0; tx < w; tx++) {
          const weight = wy * window![tx];
          for (let k = 0; k < c; k++) acc![to + tx * c + k] += src[from + tx * c + k] * weight;
        }
      }
    }
  };

  const finish = (): Image<D> => {
    if (out) return makeImage(W, H, channels, dtype, out);
    const sumY = windowSums(H, grid.rows, window!);
    const sumX = windowSums(W, grid.cols, window!);
    const result = allocate(dtype, H * W * channels);
    const integer = dtype !== 'float32';
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const norm = sumY[y] * sumX[x];
        for (let k = 0; k < channels; k++) {
          const i = (y * W + x) * channels + k;
          const v = acc![i] / norm;
          result[i] = integer ? Math.round(v) : v;
        }
      }
    }
    return makeImage(W, H, channels, dtype, result);
  };

  return {
    add(index, tile) {
      if (!(Number.isInteger(index) && index >= 0 && index < grid.count)) {
        throw new RangeError(`stitch: tile index ${index} is outside the grid of ${grid.count} tiles`);
      }
      if (seen[index]) throw new RangeError(`stitch: tile ${index} arrived twice`);
      place(index, tile);
      seen[index] = 1;
      received++;
      return received === grid.count;
    },
    get received() {
      return received;
    },
    result() {
      if (received !== grid.count) throw new RangeError(`stitch: only ${received} of ${grid.count} tiles arrived`);
      return finish();
    },
  };
}

/** Sum of the window weights of all tiles covering each position along one axis. */
function windowSums(n: number, starts: readonly number[], window: Float64Array): Float64Array {
  const sums = new Float64Array(n);
  for (const s of starts) {
    for (let i = 0; i < window.length && s + i < n; i++) sums[s + i] += window[i];
  }
  return sums;
}
