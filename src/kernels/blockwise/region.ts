/**
 * What the blockwise kernels read and write: a plane as regions, so that an image too
 * large for memory is worked through block by block. A region source may be a decoded
 * image (planeOf, for tests and small images), a tiled TIFF or an OME-Zarr array.
 */

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** One value per pixel, read a region at a time (row-major within the region). */
export interface PlaneSource {
  readonly width: number;
  readonly height: number;
  read(region: Region): Promise<ArrayLike<number>>;
}

/**
 * Where labels go, a region at a time: a write sets the region's nonzero pixels and leaves
 * the others as they are (regions may overlap; their nonzero pixels never do). Pixels
 * never set are 0.
 */
export interface LabelSink {
  write(region: Region, labels: Int32Array): Promise<void>;
}

/** A plane held whole: values at (y * width + x) * channels + channel. */
export function planeOf(values: ArrayLike<number>, width: number, height: number, channels = 1, channel = 0): PlaneSource {
  return {
    width,
    height,
    async read({ x, y, width: w, height: h }) {
      const out = new Float64Array(w * h);
      for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out[r * w + c] = values[((y + r) * width + x + c) * channels + channel];
      return out;
    },
  };
}

/** A sink that fills a whole label array (for tests and small images). */
export function labelArray(width: number, height: number): LabelSink & { readonly labels: Int32Array } {
  const labels = new Int32Array(width * height);
  return {
    labels,
    async write({ x, y, width: w, height: h }, block) {
      for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) if (block[r * w + c] !== 0) labels[(y + r) * width + x + c] = block[r * w + c];
    },
  };
}

/** The blocks of a plane in raster order, `size` square (smaller at the right and bottom edges). */
export function* blocks(width: number, height: number, size: number): Generator<Region> {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`block size must be a positive integer, got ${size}`);
  for (let y = 0; y < height; y += size) {
    for (let x = 0; x < width; x += size) yield { x, y, width: Math.min(size, width - x), height: Math.min(size, height - y) };
  }
}
