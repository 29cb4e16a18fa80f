/**
 * The ISBI 2012 challenge's foreground-restricted Rand error, as Fiji's
 * Trainable_Segmentation computes it (`RandError.foregroundRestrictedStatsN2`, the
 * V_Rand of Arganda-Carreras et al. 2015): only pixels that are foreground in the
 * ground truth take part, and each of them that the prediction calls background is a
 * segment of its own. Pairs are counted with N² normalisation (a pixel pairs with
 * itself too), as Fiji does.
 */
import type { Contingency } from './contingency.js';

export interface RandScore {
  /** 1 - F-score of Rand precision and recall. */
  readonly error: number;
  /** Pairs together in both / pairs together in the prediction. */
  readonly precision: number;
  /** Pairs together in both / pairs together in the truth. */
  readonly recall: number;
}

/** @param table the contingency of truth and prediction segments (foregroundContingency) */
export function foregroundRestrictedRandError(table: Contingency): RandScore {
  if (table.total === 0) return { error: 0, precision: 1, recall: 1 };
  let sumA2 = 0;
  for (const a of table.truthSizes) sumA2 += a * a;
  // Predicted background: one singleton per pixel, so it adds its pixel count (1² each).
  const singletons = table.predictionSizes[0] ?? 0;
  let sumB2 = singletons;
  for (let j = 1; j < table.predictionSizes.length; j++) sumB2 += table.predictionSizes[j] ** 2;
  let sumAB2 = singletons;
  for (let k = 0; k < table.count.length; k++) if (table.prediction[k] !== 0) sumAB2 += table.count[k] ** 2;
  const precision = sumAB2 / sumB2;
  const recall = sumAB2 / sumA2;
  return { error: 1 - (2 * precision * recall) / (precision + recall), precision, recall };
}
