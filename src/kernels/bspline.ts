/**
 * Cubic B-spline interpolation (Unser 1999), as scipy.ndimage does it: a prefilter
 * turns samples into spline coefficients so that the spline passes through every
 * sample, and the spline is then evaluated anywhere with four taps per axis.
 *
 * Boundaries use the names of `mirrorIndex`:
 * - `symmetric` (half-sample, edge repeated) = scipy.ndimage mode `reflect`;
 * - `reflect` (whole-sample, edge not repeated) = scipy.ndimage mode `mirror`.
 * The coefficients are extended with the same mode as the samples, which makes the
 * spline itself mirror-symmetric: evaluating it at any coordinate, however far
 * outside, equals scipy's map-the-coordinate-back-then-evaluate.
 */
import { mirrorIndex, type MirrorMode } from './mirror.js';

/**
 * LU factors of the prefilter's tridiagonal system (c[i-1] + 4 c[i] + c[i+1] = 6 f[i],
 * with the mirrored coefficients folded into the first and last rows), for one
 * length and mode. Solving it directly is exact, where the usual recursive filter
 * needs a truncated sum to start.
 */
interface Factors {
  /** Sub-diagonal of each row (row 0 unused). */
  readonly lower: Float64Array;
  /** Super-diagonal divided by the pivot, per row. */
  readonly upper: Float64Array;
  /** 1 / pivot, per row. */
  readonly inversePivot: Float64Array;
}

const factorCache = new Map<string, Factors>();

function factors(n: number, mode: MirrorMode): Factors {
  const key = `${n}:${mode}`;
  const cached = factorCache.get(key);
  if (cached) return cached;
  const lower = new Float64Array(n).fill(1);
  const diag = new Float64Array(n).fill(4);
  const sup = new Float64Array(n).fill(1);
  if (n > 1) {
    // c[-1] is c[0] (symmetric) or c[1] (reflect); likewise at the far end.
    if (mode === 'symmetric') {
      diag[0] = 5;
      diag[n - 1] = 5;
    } else {
      sup[0] = 2;
      lower[n - 1] = 2;
    }
  }
  const upper = new Float64Array(n);
  const inversePivot = new Float64Array(n);
  let prevUpper = 0;
  for (let i = 0; i < n; i++) {
    const pivot = n === 1 ? 6 : diag[i] - (i > 0 ? lower[i] * prevUpper : 0);
    inversePivot[i] = 1 / pivot;
    upper[i] = i < n - 1 ? sup[i] / pivot : 0;
    prevUpper = upper[i];
  }
  const f = { lower, upper, inversePivot };
  if (factorCache.size > 64) factorCache.clear();
  factorCache.set(key, f);
  return f;
}

/**
 * Solves the prefilter system in place for `count` interleaved lines: element k of
 * line j is at `data[offset(j) + k * stride]`. Lines are processed together, row of
 * the system by row, so that a pass down an image's columns stays cache-friendly.
 */
function solveLines(data: Float64Array, n: number, stride: number, lineStarts: ArrayLike<number>, mode: MirrorMode): void {
  const { lower, upper, inversePivot } = factors(n, mode);
  const lines = lineStarts.length;
  for (let j = 0; j < lines; j++) data[lineStarts[j]] *= 6 * inversePivot[0];
  for (let i = 1; i < n; i++) {
    const a = lower[i];
    const p = inversePivot[i];
    for (let j = 0; j < lines; j++) {
      const at = lineStarts[j] + i * stride;
      data[at] = (6 * data[at] - a * data[at - stride]) * p;
    }
  }
  for (let i = n - 2; i >= 0; i--) {
    const u = upper[i];
    for (let j = 0; j < lines; j++) {
      const at = lineStarts[j] + i * stride;
      data[at] -= u * data[at + stride];
    }
  }
}

/**
 * Cubic B-spline coefficients of an interleaved H x W x C array (float64), such that
 * `evaluate2d` at integer positions gives the samples back. Equivalent to
 * scipy.ndimage.spline_filter(order=3) with the matching mode.
 *
 * @param mode boundary of both samples and coefficients @default 'symmetric'
 */
export function prefilter2d(
  values: ArrayLike<number>,
  width: number,
  height: number,
  channels = 1,
  mode: MirrorMode = 'symmetric',
): Float64Array {
  const c = Float64Array.from(values);
  const rowLen = width * channels;
  // Along x: one line per (row, channel), elements `channels` apart.
  const xStarts = new Int32Array(height * channels);
  for (let y = 0; y < height; y++) for (let k = 0; k < channels; k++) xStarts[y * channels + k] = y * rowLen + k;
  solveLines(c, width, channels, xStarts, mode);
  // Along y: one line per (column, channel), i.e. every element of the first row.
  const yStarts = new Int32Array(rowLen);
  for (let i = 0; i < rowLen; i++) yStarts[i] = i;
  solveLines(c, height, rowLen, yStarts, mode);
  return c;
}

/** Coefficients of a single line (see prefilter2d). */
export function prefilter1d(values: ArrayLike<number>, mode: MirrorMode = 'symmetric'): Float64Array {
  const c = Float64Array.from(values);
  solveLines(c, c.length, 1, [0], mode);
  return c;
}

/**
 * The four cubic B-spline weights for taps floor(x) - 1 ... floor(x) + 2, where
 * t = x - floor(x) in [0, 1). Written into `out` to keep inner loops allocation-free.
 */
export function cubicWeights(t: number, out: Float64Array): void {
  const s = 1 - t;
  const t2 = t * t;
  out[0] = (s * s * s) / 6;
  out[1] = (4 - 6 * t2 + 3 * t2 * t) / 6;
  out[3] = (t2 * t) / 6;
  out[2] = 1 - out[0] - out[1] - out[3];
}

/**
 * Values of the spline with coefficients `coefficients` (one line, mirrored by
 * `mode`) at each of `positions`.
 */
export function evaluate1d(coefficients: Float64Array, positions: ArrayLike<number>, mode: MirrorMode): Float64Array {
  const n = coefficients.length;
  const out = new Float64Array(positions.length);
  const w = new Float64Array(4);
  for (let p = 0; p < positions.length; p++) {
    const x = positions[p];
    const i = Math.floor(x);
    cubicWeights(x - i, w);
    let v = 0;
    for (let k = 0; k < 4; k++) v += w[k] * coefficients[mirrorIndex(i - 1 + k, n, mode)];
    out[p] = v;
  }
  return out;
}
