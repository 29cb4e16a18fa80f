/**
 * Variation of information between the truth's and the prediction's segments, in bits,
 * restricted like the ISBI Rand error: only the truth's foreground pixels count, and each
 * of them that the prediction calls background is a segment of its own (Fiji's
 * `VariationOfInformation.foregroundRestrictedVI`, there in nats). Equal to
 * `skimage.metrics.variation_of_information(truth, prediction, ignore_labels=[0])` once the
 * prediction's background pixels are given labels of their own.
 */
import type { Contingency } from './contingency.js';

export interface VariationOfInformation {
  /** H(prediction | truth): information added by cutting true segments (false splits). */
  readonly split: number;
  /** H(truth | prediction): information lost by joining true segments (false merges). */
  readonly merge: number;
  /** split + merge. */
  readonly total: number;
}

export function variationOfInformation(table: Contingency): VariationOfInformation {
  const n = table.total;
  let split = 0;
  let merge = 0;
  // Written as sums of non-negative conditional terms, not H(T,P) - H(T), so rounding never makes them negative.
  for (let k = 0; k < table.count.length; k++) {
    const c = table.count[k];
    const a = table.truthSizes[table.truth[k]];
    if (table.prediction[k] === 0) {
      // c singletons in a true segment of size a: each is 1/a of it; each is its whole predicted segment.
      split += c * Math.log2(a);
    } else {
      split += c * Math.log2(a / c);
      merge += c * Math.log2(table.predictionSizes[table.prediction[k]] / c);
    }
  }
  if (n === 0) return { split: 0, merge: 0, total: 0 };
  split /= n;
  merge /= n;
  return { split, merge, total: split + merge };
}
