/**
 * The adapted Rand error exactly as scikit-image (0.19 and later) defines
 * `skimage.metrics.adapted_rand_error(truth, prediction)`: pixels that are background
 * in the truth are ignored; the prediction's background is one ordinary segment (not
 * singletons, unlike the ISBI definition in rand.ts); pairs are unordered pairs of
 * distinct pixels (n(n-1), not n²); alpha = 0.5.
 */
import type { Contingency } from './contingency.js';
import type { RandScore } from './rand.js';

/**
 * Note: scikit-image returns precision and recall under each other's names (its
 * "precision" divides by the truth's pairs); here they follow the definitions in RandScore.
 */
export function adaptedRandError(table: Contingency): RandScore {
  const n = table.total;
  let together = -n;
  for (const c of table.count) together += c * c;
  let truthPairs = -n;
  for (const a of table.truthSizes) truthPairs += a * a;
  let predictionPairs = -n;
  for (const b of table.predictionSizes) predictionPairs += b * b;
  // No pair lies in one segment in either labelling: they agree on every pair.
  if (truthPairs + predictionPairs === 0) return { error: 0, precision: 1, recall: 1 };
  return {
    error: 1 - together / (0.5 * truthPairs + 0.5 * predictionPairs),
    precision: predictionPairs === 0 ? 1 : together / predictionPairs,
    recall: truthPairs === 0 ? 1 : together / truthPairs,
  };
}
