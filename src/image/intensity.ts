/**
 * Summaries of network-input intensities: recorded with a model when it is trained,
 * and compared with each image's when it predicts. An image whose normalised
 * intensities lie far from the trained ones (an 8-bit range stored in a 16-bit file
 * under `dtype` normalisation, raw counts under `none`) still gives a result, and a
 * wrong one; this is how unetflow notices.
 */
import { quantile } from './convert.js';
import { makeImage, type Image } from './image.js';

/** The percentiles a summary reports as `low` and `high` (those of `percentile` normalisation). */
export const SUMMARY_PERCENTILES = [1, 99.8] as const;

export interface IntensitySummary {
  /** The 1st percentile. */
  readonly low: number;
  /** The 99.8th percentile. */
  readonly high: number;
  readonly mean: number;
}

/** Exact summary of `values` (numpy's default, linear-interpolated percentiles). */
export function summarise(values: ArrayLike<number>): IntensitySummary {
  if (values.length === 0) throw new RangeError('cannot summarise no values');
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  const [low, high] = SUMMARY_PERCENTILES;
  return { low: quantile(sorted, low / 100), high: quantile(sorted, high / 100), mean: sum / sorted.length };
}

/**
 * A summary of a stream of values too long to keep (every training tile's input), in
 * bounded memory: the exact mean, and percentiles of a systematic sample — every
 * `stride`-th value, the stride doubling whenever `capacity` values are held.
 * Deterministic: the same values in the same order give the same summary.
 */
export class IntensitySampler {
  private readonly kept: Float32Array;
  private length = 0;
  private stride = 1;
  private seen = 0;
  private sum = 0;

  /** @param capacity values held at most @default 2^17 */
  constructor(capacity = 1 << 17) {
    if (!(Number.isInteger(capacity) && capacity >= 2)) throw new RangeError(`capacity must be an integer >= 2, got ${capacity}`);
    this.kept = new Float32Array(capacity);
  }

  /** Values added so far. */
  get count(): number {
    return this.seen;
  }

  add(values: ArrayLike<number>): void {
    const start = this.seen;
    this.seen += values.length;
    for (let i = 0; i < values.length; i++) this.sum += values[i];
    // kept[k] is value number k * stride of the stream, so the next one to keep is length * stride.
    for (let next = this.length * this.stride; next < this.seen; next = this.length * this.stride) {
      if (this.length === this.kept.length) {
        this.halve();
        continue;
      }
      this.kept[this.length++] = values[next - start];
    }
  }

  /** The summary of everything added, or undefined before anything was. */
  summary(): (IntensitySummary & { readonly values: number }) | undefined {
    if (this.seen === 0) return undefined;
    return { ...summarise(this.kept.subarray(0, this.length)), mean: this.sum / this.seen, values: this.seen };
  }

  /** Keeps every other value held, so that they are every (2 * stride)-th of the stream. */
  private halve(): void {
    const half = Math.ceil(this.length / 2);
    for (let k = 0; k < half; k++) this.kept[k] = this.kept[2 * k];
    this.length = half;
    this.stride *= 2;
  }
}

/**
 * At most `max` of the image's values (every k-th, all channels), as a one-row image of
 * its dtype and source type — enough to summarise a large image cheaply, and to be
 * normalised as the image itself would be.
 */
export function sampleValues(image: Image, max: number): Image {
  const n = image.data.length;
  const stride = Math.max(1, Math.ceil(n / max));
  const count = Math.ceil(n / stride);
  const data = new (image.data.constructor as new (n: number) => typeof image.data)(count);
  for (let k = 0; k < count; k++) data[k] = image.data[k * stride];
  return makeImage(count, 1, 1, image.dtype, data, image.sourceType);
}

/**
 * Why an input's intensities are far from those a model was trained on, or undefined
 * when they are not. Far means any of:
 * - its spread (high - low, the 1st to 99.8th percentile) is under a quarter of the
 *   trained spread: too little contrast, e.g. 0-235 in a 16-bit file under `dtype`;
 * - its spread is over four times the trained one: e.g. raw counts under `none`;
 * - its mean lies outside the trained [low, high]: the range is shifted, e.g. an
 *   inverted or saturated image, or a signed image centred on 0.
 * A model whose trained spread is 0 is compared by the mean alone.
 */
export function intensityMismatch(input: IntensitySummary, trained: IntensitySummary): string | undefined {
  const spread = input.high - input.low;
  const trainedSpread = trained.high - trained.low;
  if (trainedSpread > 0 && spread < trainedSpread / 4) {
    return `its spread is ${percent(spread / trainedSpread)} of the trained one (under a quarter)`;
  }
  if (trainedSpread > 0 && spread > trainedSpread * 4) {
    return `its spread is ${round(spread / trainedSpread)} times the trained one (over four)`;
  }
  if (input.mean < trained.low || input.mean > trained.high) {
    return `its mean lies ${input.mean < trained.low ? 'below' : 'above'} the trained 1st-99.8th percentile range`;
  }
  return undefined;
}

/** `low-high, mean m`, three significant digits. */
export function describeSummary(s: IntensitySummary): string {
  return `${round(s.low)}-${round(s.high)}, mean ${round(s.mean)}`;
}

function round(v: number): number {
  return Number(v.toPrecision(3));
}

function percent(fraction: number): string {
  return `${round(fraction * 100)}%`;
}
