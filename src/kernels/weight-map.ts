/**
 * The U-Net loss weight map (paper, equation 2):
 *
 *   w(x) = w_c(x) + w0 · exp(-(d1(x) + d2(x))² / (2σ²))
 *
 * d1, d2: exact Euclidean distances from the pixel centre to the nearest and the
 * second-nearest instance (`nearestTwo`); w_c balances the class frequencies. The
 * border term makes the network learn the thin gaps between touching cells.
 */
import { allocate, makeImage, requireChannels, type Image } from '../image/image.js';
import { connectedComponents, type Connectivity } from './components.js';
import { nearestTwo } from './distance.js';

/**
 * - `balanced`: w_c(k) = N / (K · count_k) over the K classes present, so the mean is 1.
 * - `frequent-one`: the most frequent class gets 1, others count_max / count_k.
 * - `none`: 1 everywhere.
 * - `[background, foreground]`: explicit values.
 */
export type ClassWeights = 'balanced' | 'frequent-one' | 'none' | readonly [number, number];

export interface WeightMapOptions {
  /**
   * `binary`: 0 = background, one other value = cells; instances are its connected
   * components. `instances`: each nonzero value is an instance id (touching allowed).
   * @default 'binary'
   */
  readonly input?: 'binary' | 'instances';
  /** Connectivity of a binary label's instances. @default 4 */
  readonly connectivity?: Connectivity;
  /** @default 10 */
  readonly w0?: number;
  /** Pixels. @default 5 */
  readonly sigma?: number;
  /** @default 'balanced' */
  readonly classWeights?: ClassWeights;
  /** Pixels that get the border term: background only (as the common implementations) or all. @default 'background' */
  readonly border?: 'background' | 'all';
  /**
   * First make touching instances 1 px apart, as the authors' Fiji plugin does: an
   * instance pixel with an 8-neighbour of a higher id becomes background.
   * @default false
   */
  readonly gap?: boolean;
}

export interface WeightMapResult {
  /** float32, one channel, the label's size; always finite. */
  readonly weights: Image<'float32'>;
  /** The label the weights belong to: the input itself, or a copy with the gap pixels set to 0. */
  readonly label: Image;
  /** Instances after any gap; with fewer than two there is no border term. */
  readonly instances: number;
}

/**
 * Computes the weight map of a label image. Bad labels (several channels, more than
 * two levels in a binary label, non-integer or NaN ids) throw a RangeError that says
 * what was found. A label with no foreground, or a single instance, is valid: its
 * weights are the class weights alone.
 */
export function weightMap(label: Image, options: WeightMapOptions = {}): WeightMapResult {
  const { input = 'binary', connectivity = 4, w0 = 10, sigma = 5, classWeights = 'balanced', border = 'background', gap = false } = options;
  if (!(Number.isFinite(w0) && w0 >= 0)) throw new RangeError(`w0 must be a finite number >= 0, got ${w0}`);
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new RangeError(`sigma must be a finite number > 0, got ${sigma}`);
  const { width, height } = label;
  let ids = instanceIds(label, input, connectivity);
  let out = label;
  if (gap) {
    const separated = separateTouching(ids, width, height);
    if (separated !== ids) {
      ids = separated;
      const data = allocate(label.dtype, width * height);
      for (let i = 0; i < data.length; i++) data[i] = ids[i] === 0 ? 0 : label.data[i];
      out = makeImage(width, height, 1, label.dtype, data);
    }
  }
  const size = width * height;
  let foreground = 0;
  for (let i = 0; i < size; i++) if (ids[i] !== 0) foreground++;
  const [wb, wf] = classWeightValues(size - foreground, foreground, classWeights);
  const weights = new Float32Array(size);
  for (let i = 0; i < size; i++) weights[i] = ids[i] === 0 ? wb : wf;
  const instances = countDistinct(ids);
  if (instances >= 2 && w0 > 0) {
    let want: Uint8Array | undefined;
    if (border === 'background') {
      want = new Uint8Array(size);
      for (let i = 0; i < size; i++) want[i] = ids[i] === 0 ? 1 : 0;
    }
    const { d1, d2 } = nearestTwo(ids, width, height, want);
    const k = 1 / (2 * sigma * sigma);
    for (let i = 0; i < size; i++) {
      if (want && want[i] === 0) continue;
      const s = d1[i] + d2[i];
      weights[i] = (ids[i] === 0 ? wb : wf) + w0 * Math.exp(-s * s * k);
    }
  }
  return { weights: makeImage(width, height, 1, 'float32', weights), label: out, instances };
}

/**
 * Instance id per pixel (0 = background): the connected components of a binary
 * label, or an instance label's own values.
 */
export function instanceIds(label: Image, input: 'binary' | 'instances', connectivity: Connectivity = 4): Int32Array {
  requireChannels(label, 1, 'label');
  const data = label.data;
  if (input === 'instances') {
    const ids = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 31)) {
        throw new RangeError(`an instance label must hold non-negative integer ids, found ${v} — for a mask with fractional values use input: 'binary'`);
      }
      ids[i] = v;
    }
    return ids;
  }
  let level: number | undefined;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === 0) continue;
    if (Number.isNaN(v) || (level !== undefined && v !== level)) {
      throw new RangeError(
        `a binary label must hold 0 (background) and one foreground value, found ${levels(data).join(', ')} — ` +
          "for instance ids use input: 'instances'",
      );
    }
    level = v;
  }
  return connectedComponents(data, label.width, label.height, connectivity).labels;
}

/** Up to six distinct values, for messages. */
function levels(data: ArrayLike<number>): string[] {
  const seen = new Set<number>();
  for (let i = 0; i < data.length && seen.size < 6; i++) seen.add(data[i]);
  const shown = [...seen].sort((a, b) => a - b).map(String);
  return seen.size < 6 ? shown : [...shown.slice(0, 5), '...'];
}

/**
 * Sets to 0 every instance pixel that has an 8-neighbour of a higher id, so no two
 * instances stay 8-adjacent, separated by a 1 px line. Decided on the input map
 * (not in place), so the result does not depend on the scan order. Returns the input
 * itself when nothing touches.
 */
export function separateTouching(ids: Int32Array, width: number, height: number): Int32Array {
  let out: Int32Array | undefined;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const id = ids[p];
      if (id === 0) continue;
      let touches = false;
      for (let dy = -1; dy <= 1 && !touches; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          if (ids[ny * width + nx] > id) {
            touches = true;
            break;
          }
        }
      }
      if (touches) (out ??= ids.slice())[p] = 0;
    }
  }
  return out ?? ids;
}

/**
 * [background, foreground] class weights from the pixel counts. Classes without
 * pixels are left out of `balanced`'s K, so the mean stays 1 (an empty label gets 1).
 */
export function classWeightValues(background: number, foreground: number, spec: ClassWeights): [number, number] {
  if (typeof spec !== 'string') {
    if (!spec.every((w) => Number.isFinite(w) && w >= 0)) throw new RangeError(`class weights must be finite numbers >= 0, got ${spec.join(', ')}`);
    return [spec[0], spec[1]];
  }
  if (spec === 'none') return [1, 1];
  const counts = [background, foreground];
  const present = counts.filter((c) => c > 0);
  // An absent class's weight is never used; 1 keeps it finite.
  if (spec === 'balanced') {
    const total = background + foreground;
    return counts.map((c) => (c > 0 ? total / (present.length * c) : 1)) as [number, number];
  }
  const most = Math.max(...counts);
  return counts.map((c) => (c > 0 ? most / c : 1)) as [number, number];
}

function countDistinct(ids: Int32Array): number {
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) seen.add(ids[i]);
  return seen.size;
}
