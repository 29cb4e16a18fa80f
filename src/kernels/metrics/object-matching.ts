/**
 * Object-level scores of an instance segmentation: each true object is matched to at
 * most one predicted object and vice versa when their IoU is at least `threshold`
 * (0.5 by default, the Data Science Bowl 2018 and StarDist convention). Above 0.5 a
 * match is unique by construction; at exactly 0.5 pairs are taken in order of
 * decreasing IoU. Precision = TP / predicted, recall = TP / true, F1 their harmonic
 * mean (1 when both sides are empty).
 */

export interface ObjectScores {
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Mean IoU of the matched pairs (0 when none). */
  readonly meanMatchedIoU: number;
}

/** @param truth, prediction instance ids per pixel (0 = background), equal length */
export function matchObjects(truth: ArrayLike<number>, prediction: ArrayLike<number>, threshold = 0.5): ObjectScores {
  if (truth.length !== prediction.length) throw new RangeError(`labellings differ in size: ${truth.length} and ${prediction.length} pixels`);
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`IoU threshold must be in (0, 1], got ${threshold}`);
  const truthSize = new Map<number, number>();
  const predSize = new Map<number, number>();
  const overlap = new Map<string, number>();
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = prediction[i];
    if (t !== 0) truthSize.set(t, (truthSize.get(t) ?? 0) + 1);
    if (p !== 0) predSize.set(p, (predSize.get(p) ?? 0) + 1);
    if (t !== 0 && p !== 0) overlap.set(`${t},${p}`, (overlap.get(`${t},${p}`) ?? 0) + 1);
  }
  const pairs: { t: number; p: number; iou: number }[] = [];
  for (const [key, inter] of overlap) {
    const [t, p] = key.split(',').map(Number);
    const iou = inter / (truthSize.get(t)! + predSize.get(p)! - inter);
    if (iou >= threshold) pairs.push({ t, p, iou });
  }
  pairs.sort((a, b) => b.iou - a.iou || a.t - b.t || a.p - b.p);
  const usedT = new Set<number>();
  const usedP = new Set<number>();
  let iouSum = 0;
  for (const { t, p, iou } of pairs) {
    if (usedT.has(t) || usedP.has(p)) continue;
    usedT.add(t);
    usedP.add(p);
    iouSum += iou;
  }
  const tp = usedT.size;
  const fp = predSize.size - tp;
  const fn = truthSize.size - tp;
  const precision = predSize.size ? tp / predSize.size : truthSize.size ? 0 : 1;
  const recall = truthSize.size ? tp / truthSize.size : predSize.size ? 0 : 1;
  const f1 = tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
  return { truePositives: tp, falsePositives: fp, falseNegatives: fn, precision, recall, f1, meanMatchedIoU: tp ? iouSum / tp : 0 };
}
