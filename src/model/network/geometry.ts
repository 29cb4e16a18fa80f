/**
 * U-Net tile geometry as pure functions: which input sizes a network accepts and
 * what output size each gives (572 -> 388 for the paper's depth-4 valid network).
 *
 * Each level runs two 3x3 convolutions; with `valid` padding each removes 2 px.
 * Going down, every 2x2 max-pool needs an even size; going up, every 2x2
 * up-convolution doubles. So with bottom output size b:
 *   input  = 2^d (b + 8) - 4      (valid)      output = 2^d b - 4 (2^d - 1)
 *   input  = output = 2^d m        (same)
 */

export type Padding = 'valid' | 'same';

export interface NetworkShape {
  /** Number of 2x2 max-pools (4 in the paper: five resolution levels). */
  readonly depth: number;
  readonly padding: Padding;
}

/** What a network does to a square tile. */
export interface SizeMap {
  readonly input: number;
  readonly output: number;
}

/** px removed by one level's two 3x3 convolutions. */
const LEVEL_LOSS = 4;

function checkDepth(depth: number): void {
  if (!Number.isInteger(depth) || depth < 0 || depth > 10) {
    throw new RangeError(`network depth must be an integer from 0 to 10, got ${depth}`);
  }
}

/**
 * The output size for an input size, or undefined when the network cannot take that
 * input (an odd size before a pool, or nothing left after the convolutions).
 */
export function outputSize(input: number, shape: NetworkShape): number | undefined {
  checkDepth(shape.depth);
  if (!Number.isInteger(input) || input < 1) return undefined;
  const loss = shape.padding === 'valid' ? LEVEL_LOSS : 0;
  let n = input;
  for (let level = 0; level < shape.depth; level++) {
    n -= loss;
    if (n < 2 || n % 2 !== 0) return undefined;
    n /= 2;
  }
  n -= loss;
  if (n < 1) return undefined;
  for (let level = 0; level < shape.depth; level++) {
    n = 2 * n - loss;
    if (n < 1) return undefined;
  }
  return n;
}

/** The i-th smallest valid input (i = 0, 1, ...) and its output. */
function nth(i: number, shape: NetworkShape): SizeMap {
  const scale = 2 ** shape.depth;
  if (shape.padding === 'same') return { input: scale * (i + 1), output: scale * (i + 1) };
  // The smallest bottom size whose output is at least 1 px: 2^d b > 4 (2^d - 1).
  const bMin = Math.floor((LEVEL_LOSS * (scale - 1)) / scale) + 1;
  const b = bMin + i;
  return { input: scale * (b + 2 * LEVEL_LOSS) - LEVEL_LOSS, output: scale * b - LEVEL_LOSS * (scale - 1) };
}

/** Valid input sizes up to `max` (inclusive), smallest first. */
export function validSizes(shape: NetworkShape, max: number): SizeMap[] {
  checkDepth(shape.depth);
  const out: SizeMap[] = [];
  for (let i = 0; ; i++) {
    const s = nth(i, shape);
    if (s.input > max) return out;
    out.push(s);
  }
}

/** The valid input sizes closest to `input` from below and from above. */
export function nearestValid(input: number, shape: NetworkShape): { below?: SizeMap; above: SizeMap } {
  checkDepth(shape.depth);
  let below: SizeMap | undefined;
  for (let i = 0; ; i++) {
    const s = nth(i, shape);
    if (s.input === input) return { below: s, above: s };
    if (s.input > input) return { below, above: s };
    below = s;
  }
}

/** The network's map for `input`; throws a RangeError naming the nearest valid sizes otherwise. */
export function sizeMap(input: number, shape: NetworkShape): SizeMap {
  const output = outputSize(input, shape);
  if (output !== undefined) return { input, output };
  const { below, above } = nearestValid(input, shape);
  const show = (s: SizeMap) => `${s.input} (-> ${s.output})`;
  throw new RangeError(
    `a depth-${shape.depth} ${shape.padding} U-Net cannot take a ${input} px tile; nearest valid: ` +
      (below ? `${show(below)} or ${show(above)}` : show(above)),
  );
}

/**
 * 2^depth of the valid U-Net that maps `input` px to `output` px (16 for 572 -> 388),
 * undefined when no depth does: tiles that start on multiples of it pool on one grid.
 */
export function poolingScale(input: number, output: number): number | undefined {
  for (let depth = 0; depth <= 10; depth++) if (outputSize(input, { depth, padding: 'valid' }) === output) return 2 ** depth;
  return undefined;
}

/** The margin the network cuts from each side of a tile: (input - output) / 2. */
export function margin(shape: NetworkShape): number {
  const s = nth(0, shape);
  return (s.input - s.output) / 2;
}

/** Rows of a tile computed on their own: exact for valid convolutions (see `bands`). */
export interface Band {
  /** First input row and number of input rows (a valid input size). */
  readonly inputTop: number;
  readonly inputRows: number;
  /** First output row and number of output rows the band computes. */
  readonly outputTop: number;
  readonly outputRows: number;
  /** Output rows the band is answerable for (the next band recomputes a few overlap rows). */
  readonly ownTop: number;
  readonly ownRows: number;
}

/**
 * Splits a valid network's tile into up to `parts` horizontal bands that can be
 * computed separately (on separate cores, or one after another to save memory) and
 * give exactly the whole tile's output: each band starts at a multiple of 2^depth
 * input rows, so its max-pool grid is the tile's, and its input is its output rows
 * plus the margin on both sides (the halo). Neighbouring bands recompute a few output
 * rows (4 at depth 4) because band outputs must themselves be valid sizes; each row
 * is owned by exactly one band. Fewer bands come back when the tile is too small.
 * Same-padded networks cannot be split exactly (their zero padding would fall inside
 * the tile), so they always get one band.
 */
export function bands(input: number, shape: NetworkShape, parts: number): Band[] {
  const { output } = sizeMap(input, shape);
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`bands: parts must be a positive integer, got ${parts}`);
  const whole: Band = { inputTop: 0, inputRows: input, outputTop: 0, outputRows: output, ownTop: 0, ownRows: output };
  if (shape.padding !== 'valid' || parts === 1) return [whole];
  const scale = 2 ** shape.depth;
  const m = (input - output) / 2;
  const smallest = nth(0, shape).output;
  // Output rows past a band's last owned row so that its output is a valid size.
  const overlap = smallest % scale;
  // Band starts are multiples of `scale`; the last band must still have a valid output.
  const steps = Math.floor((output - smallest) / scale);
  const n = Math.min(parts, steps + 1);
  const starts = Array.from({ length: n }, (_, i) => scale * Math.floor((i * (steps + 1)) / n));
  const out: Band[] = [];
  for (let i = 0; i < n; i++) {
    const top = starts[i];
    const ownEnd = i + 1 < n ? starts[i + 1] : output;
    const rows = i + 1 < n ? ownEnd - top + overlap : output - top;
    out.push({ inputTop: top, inputRows: rows + 2 * m, outputTop: top, outputRows: rows, ownTop: top, ownRows: ownEnd - top });
  }
  return out;
}
