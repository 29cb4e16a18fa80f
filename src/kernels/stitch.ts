/**
 * Puts output tiles back together. Tiles may arrive in any order; the result has
 * exactly the original image's size.
 */
import { allocate, makeImage, type DType, type Image, type PixelArray } from '../image/image.js';
import { blendWindow, type TileGrid } from './tiling.js';

export interface Stitcher<D extends DType = DType> {
  /** Adds the output of tile `index`; returns true once every tile is in. */
  add(index: number, tile: Image): boolean;
  readonly received: number;
  /** Image rows whose blending sums are held: rows some tile has reached and not every tile covering them has (0 for valid geometry). */
  readonly rowsHeld: number;
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
 * that blending identical values gives back exactly those values. They are kept per
 * image row, only until every tile covering the row is in: the row is then divided
 * into the result and its sums let go, so tiles arriving row by row hold a few tile
 * rows of sums, not a float64 copy of the image.
 */
export function createStitcher<D extends DType>(grid: TileGrid, channels: number, dtype: D): Stitcher<D> {
  const { height: H, width: W, outputSize: O } = grid;
  const seen = new Uint8Array(grid.count);
  let received = 0;
  const out = allocate(dtype, H * W * channels);
  const blend = grid.geometry.kind === 'same' ? grid.geometry.window : undefined;
  const window = blend ? blendWindow(O, blend) : undefined;
  const rows = blend ? new BlendRows(grid, channels, window!, out) : undefined;

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
      if (!rows) {
        out.set(src.subarray(from, from + w * c), ((y0 + ty) * W + x0) * c);
        continue;
      }
      const acc = rows.sums(y0 + ty);
      const wy = window![ty];
      for (let tx = 0; tx < w; tx++) {
        const weight = wy * window![tx];
        for (let k = 0; k < c; k++) acc[(x0 + tx) * c + k] += src[from + tx * c + k] * weight;
      }
    }
    if (rows) for (let ty = 0; ty < h; ty++) rows.placed(y0 + ty);
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
    get rowsHeld() {
      return rows?.openRows ?? 0;
    },
    result() {
      if (received !== grid.count) throw new RangeError(`stitch: only ${received} of ${grid.count} tiles arrived`);
      return makeImage(W, H, channels, dtype, out);
    },
  };
}

/** Blending sums of the image rows that some tile has reached and not every tile covering them has. */
class BlendRows {
  private readonly open = new Map<number, Float64Array>();
  /** Tiles still to come per row: the tile rows covering it times the tile columns. */
  private readonly missing: Int32Array;
  private readonly sumY: Float64Array;
  private readonly sumX: Float64Array;

  constructor(
    private readonly grid: TileGrid,
    private readonly channels: number,
    window: Float64Array,
    private readonly out: PixelArray,
  ) {
    this.sumY = windowSums(grid.height, grid.rows, window);
    this.sumX = windowSums(grid.width, grid.cols, window);
    this.missing = new Int32Array(grid.height);
    for (const y0 of grid.rows) for (let y = y0; y < Math.min(grid.height, y0 + grid.outputSize); y++) this.missing[y] += grid.cols.length;
  }

  sums(y: number): Float64Array {
    let acc = this.open.get(y);
    if (!acc) this.open.set(y, (acc = new Float64Array(this.grid.width * this.channels)));
    return acc;
  }

  /** A tile has added its part of row y; after the last one, the row is divided into the result. */
  placed(y: number): void {
    if (--this.missing[y] > 0) return;
    const acc = this.open.get(y)!;
    this.open.delete(y);
    const W = this.grid.width;
    const c = this.channels;
    const integer = !(this.out instanceof Float32Array);
    for (let x = 0; x < W; x++) {
      const norm = this.sumY[y] * this.sumX[x];
      for (let k = 0; k < c; k++) {
        const v = acc[x * c + k] / norm;
        this.out[(y * W + x) * c + k] = integer ? Math.round(v) : v;
      }
    }
  }

  /** Rows holding sums now. */
  get openRows(): number {
    return this.open.size;
  }
}

/** Sum of the window weights of all tiles covering each position along one axis. */
function windowSums(n: number, starts: readonly number[], window: Float64Array): Float64Array {
  const sums = new Float64Array(n);
  for (const s of starts) {
    for (let i = 0; i < window.length && s + i < n; i++) sums[s + i] += window[i];
  }
  return sums;
}
