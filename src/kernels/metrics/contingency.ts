/**
 * The contingency table of two labellings restricted to the ground truth's foreground:
 * how many of those pixels carry each (truth, prediction) pair of labels. One pass with
 * a hash map, so Rand and VI cost O(pixels), never O(pairs of pixels).
 */

export interface Contingency {
  /** Pixels counted: those whose truth label is not 0. */
  readonly total: number;
  /** Non-empty cells as parallel arrays: truth label, prediction label (0 included), pixel count. */
  readonly truth: Int32Array;
  readonly prediction: Int32Array;
  readonly count: Float64Array;
  /** Pixels per truth label (index 0 stays 0). */
  readonly truthSizes: Float64Array;
  /** Counted pixels per prediction label, label 0 (predicted background) included. */
  readonly predictionSizes: Float64Array;
}

/** @param truth, prediction label images of equal length: 0 = background, 1 ... n = segments */
export function foregroundContingency(truth: Int32Array, prediction: Int32Array): Contingency {
  if (truth.length !== prediction.length) throw new RangeError(`labellings differ in size: ${truth.length} and ${prediction.length} pixels`);
  let maxT = 0;
  let maxP = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] > maxT) maxT = truth[i];
    if (prediction[i] > maxP) maxP = prediction[i];
  }
  const stride = maxP + 1;
  const cells = new Map<number, number>();
  const truthSizes = new Float64Array(maxT + 1);
  const predictionSizes = new Float64Array(maxP + 1);
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (t === 0) continue;
    const p = prediction[i];
    const key = t * stride + p;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    truthSizes[t]++;
    predictionSizes[p]++;
    total++;
  }
  const n = cells.size;
  const out = { truth: new Int32Array(n), prediction: new Int32Array(n), count: new Float64Array(n) };
  let k = 0;
  for (const [key, count] of cells) {
    out.truth[k] = Math.floor(key / stride);
    out.prediction[k] = key % stride;
    out.count[k++] = count;
  }
  return { total, ...out, truthSizes, predictionSizes };
}
