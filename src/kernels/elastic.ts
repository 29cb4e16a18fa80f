/**
 * Elastic deformation (paper, section 3.1), split into the random draw
 * (`sampleDisplacement`) and deterministic steps (`displacementField`, `warp`), so
 * that one draw can be applied to an image, its label and its weights alike and the
 * warp can be tested with hand-made displacements.
 *
 * Conventions:
 * - Control point (r, c) of an n x n grid sits at pixel (r (H-1)/(n-1), c (W-1)/(n-1)):
 *   the corners are on the corner pixels.
 * - The dense field is the interpolating cubic B-spline through the control values
 *   with whole-sample mirror boundary: what scipy.ndimage.zoom(grid, (H/n, W/n),
 *   order=3) returns for an n x n grid.
 * - The warp is backward: out(y, x) = in(y + dy(y, x), x + dx(y, x)); outside the
 *   image, `in` is mirrored with the edge pixel repeated (scipy mode 'reflect').
 */
import { allocate, makeImage, type DType, type Image } from '../image/image.js';
import type { Rng } from '../random.js';
import { cubicWeights, evaluate1d, prefilter1d, prefilter2d } from './bspline.js';
import { mirrorIndex } from './mirror.js';

/** Displacements at the control points, in pixels, row-major n x n. */
export interface ControlGrid {
  readonly dy: readonly (readonly number[])[];
  readonly dx: readonly (readonly number[])[];
}

/** A displacement per pixel (row-major, float64): where each output pixel samples the input. */
export interface DisplacementField {
  readonly width: number;
  readonly height: number;
  readonly dy: Float64Array;
  readonly dx: Float64Array;
}

/**
 * - `cubic`: cubic B-spline with prefilter (scipy map_coordinates order=3, mode='reflect').
 * - `linear`: bilinear (order=1). - `nearest`: the nearest pixel (order=0), for labels:
 *   it never makes a value that was not in the input.
 */
export type Interpolation = 'cubic' | 'linear' | 'nearest';

/**
 * Draws the control displacements: every component N(0, sigma²), all dy values in
 * row-major order, then all dx values. This is the only random step.
 *
 * @param n control points per side @default 3
 * @param sigma standard deviation in pixels @default 10
 */
export function sampleDisplacement(rng: Rng, n = 3, sigma = 10): ControlGrid {
  checkGridSize(n);
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new RangeError(`sigma must be a finite number >= 0, got ${sigma}`);
  const draw = () => Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal() * sigma));
  const dy = draw();
  const dx = draw();
  return { dy, dx };
}

/** Checks that a grid is n x n (n >= 2) with finite values, and returns n. */
export function checkControlGrid(grid: ControlGrid): number {
  const n = grid.dy.length;
  checkGridSize(n);
  for (const [name, rows] of [['dy', grid.dy], ['dx', grid.dx]] as const) {
    if (rows.length !== n) throw new RangeError(`displacement ${name} has ${rows.length} rows, dy has ${n}: both must be n x n`);
    for (const [r, row] of rows.entries()) {
      if (row.length !== n) throw new RangeError(`displacement ${name}[${r}] has ${row.length} values, expected ${n} (an n x n grid)`);
      for (const v of row) if (!Number.isFinite(v)) throw new RangeError(`displacement ${name}[${r}] holds ${v}: expected finite pixels`);
    }
  }
  return n;
}

function checkGridSize(n: number): void {
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`a control grid needs n >= 2 points per side (one at each edge), got ${n}`);
}

/** The dense field of a control grid for an image of width x height (see the file's conventions). */
export function displacementField(grid: ControlGrid, width: number, height: number): DisplacementField {
  const n = checkControlGrid(grid);
  return { width, height, dy: zoomCubic(grid.dy, n, width, height), dx: zoomCubic(grid.dx, n, width, height) };
}

/** A field of zeros: the identity warp. */
export function zeroField(width: number, height: number): DisplacementField {
  const size = width * height;
  return { width, height, dy: new Float64Array(size), dx: new Float64Array(size) };
}

/**
 * scipy.ndimage.zoom(values, (H/n, W/n), order=3) for an n x n array. Prefilter and
 * evaluation are linear, so each axis is a size x n matrix (the spline of each unit
 * vector), and the field is Ay · values · Axᵀ: n multiply-adds per pixel.
 */
function zoomCubic(values: readonly (readonly number[])[], n: number, width: number, height: number): Float64Array {
  const ax = axisMatrix(width, n);
  const ay = axisMatrix(height, n);
  // values · Axᵀ: n x W.
  const rows = new Float64Array(n * width);
  for (let r = 0; r < n; r++) {
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (let c = 0; c < n; c++) v += values[r][c] * ax[x * n + c];
      rows[r * width + x] = v;
    }
  }
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let r = 0; r < n; r++) {
      const w = ay[y * n + r];
      if (w === 0) continue;
      for (let x = 0, o = y * width, i = r * width; x < width; x++) out[o + x] += w * rows[i + x];
    }
  }
  return out;
}

/** size x n: entry (i, r) is the mirror-boundary spline through unit vector e_r, at pixel i. */
function axisMatrix(size: number, n: number): Float64Array {
  const xs = positions(size, n);
  const m = new Float64Array(size * n);
  for (let r = 0; r < n; r++) {
    const unit = Array.from({ length: n }, (_, i) => (i === r ? 1 : 0));
    const column = evaluate1d(prefilter1d(unit, 'reflect'), xs, 'reflect');
    for (let i = 0; i < size; i++) m[i * n + r] = column[i];
  }
  return m;
}

/** Grid coordinates of pixels 0 ... size-1 when n control points span them. */
function positions(size: number, n: number): Float64Array {
  const scale = size > 1 ? (n - 1) / (size - 1) : 0;
  return Float64Array.from({ length: size }, (_, i) => i * scale);
}

/**
 * Resamples `image` through `field` (backward warp). Integer images are rounded and
 * clamped to their range (cubic interpolation overshoots); `nearest` copies values.
 * Every channel is warped alike.
 *
 * @param interpolation @default 'cubic'
 */
export function warp<D extends DType>(image: Image<D>, field: DisplacementField, interpolation: Interpolation = 'cubic'): Image<D> {
  const { width: W, height: H, channels: C } = image;
  if (field.width !== W || field.height !== H) {
    throw new RangeError(`displacement field is ${field.width}x${field.height} but the image is ${W}x${H}`);
  }
  const out = allocate(image.dtype, W * H * C);
  const store = storer(image.dtype, out);
  if (interpolation === 'nearest') warpNearest(image, field, out);
  else if (interpolation === 'linear') warpLinear(image, field, store);
  else warpCubic(image, field, store);
  return makeImage(W, H, C, image.dtype, out, image.sourceType);
}

type Store = (index: number, value: number) => void;

function storer(dtype: DType, out: { [i: number]: number }): Store {
  if (dtype === 'float32') return (i, v) => (out[i] = v);
  const max = dtype === 'uint8' ? 255 : 65535;
  return (i, v) => {
    const r = Math.round(v);
    out[i] = r < 0 ? 0 : r > max ? max : r;
  };
}

function warpCubic(image: Image, field: DisplacementField, store: Store): void {
  const { width: W, height: H, channels: C } = image;
  const coef = prefilter2d(image.data, W, H, C, 'symmetric');
  const wy = new Float64Array(4);
  const wx = new Float64Array(4);
  const rows = new Int32Array(4);
  const cols = new Int32Array(4);
  for (let y = 0, p = 0; y < H; y++) {
    for (let x = 0; x < W; x++, p++) {
      const sy = y + field.dy[p];
      const sx = x + field.dx[p];
      const iy = Math.floor(sy);
      const ix = Math.floor(sx);
      cubicWeights(sy - iy, wy);
      cubicWeights(sx - ix, wx);
      // Mirroring only near the border; inside, the four taps are consecutive.
      const rowsInside = iy >= 1 && iy + 2 < H;
      const colsInside = ix >= 1 && ix + 2 < W;
      for (let k = 0; k < 4; k++) {
        rows[k] = (rowsInside ? iy - 1 + k : mirrorIndex(iy - 1 + k, H, 'symmetric')) * W * C;
        cols[k] = (colsInside ? ix - 1 + k : mirrorIndex(ix - 1 + k, W, 'symmetric')) * C;
      }
      for (let c = 0; c < C; c++) {
        const r0 = rows[0] + c;
        const r1 = rows[1] + c;
        const r2 = rows[2] + c;
        const r3 = rows[3] + c;
        let v = 0;
        for (let b = 0; b < 4; b++) {
          const col = cols[b];
          v += wx[b] * (wy[0] * coef[r0 + col] + wy[1] * coef[r1 + col] + wy[2] * coef[r2 + col] + wy[3] * coef[r3 + col]);
        }
        store(p * C + c, v);
      }
    }
  }
}

function warpLinear(image: Image, field: DisplacementField, store: Store): void {
  const { width: W, height: H, channels: C, data } = image;
  for (let y = 0, p = 0; y < H; y++) {
    for (let x = 0; x < W; x++, p++) {
      const sy = y + field.dy[p];
      const sx = x + field.dx[p];
      const iy = Math.floor(sy);
      const ix = Math.floor(sx);
      const ty = sy - iy;
      const tx = sx - ix;
      const r0 = mirrorIndex(iy, H, 'symmetric') * W * C;
      const r1 = mirrorIndex(iy + 1, H, 'symmetric') * W * C;
      const c0 = mirrorIndex(ix, W, 'symmetric') * C;
      const c1 = mirrorIndex(ix + 1, W, 'symmetric') * C;
      for (let c = 0; c < C; c++) {
        const top = data[r0 + c0 + c] * (1 - tx) + data[r0 + c1 + c] * tx;
        const bottom = data[r1 + c0 + c] * (1 - tx) + data[r1 + c1 + c] * tx;
        store(p * C + c, top * (1 - ty) + bottom * ty);
      }
    }
  }
}

function warpNearest(image: Image, field: DisplacementField, out: { [i: number]: number }): void {
  const { width: W, height: H, channels: C, data } = image;
  for (let y = 0, p = 0; y < H; y++) {
    for (let x = 0; x < W; x++, p++) {
      // Halves round up, as scipy's order-0 interpolation does.
      const sy = mirrorIndex(Math.floor(y + field.dy[p] + 0.5), H, 'symmetric');
      const sx = mirrorIndex(Math.floor(x + field.dx[p] + 0.5), W, 'symmetric');
      const from = (sy * W + sx) * C;
      for (let c = 0; c < C; c++) out[p * C + c] = data[from + c];
    }
  }
}
