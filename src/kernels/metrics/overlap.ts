/**
 * Pixel-wise agreement of two binary masks (nonzero = foreground): the pixel error and
 * the overlap of the foregrounds.
 */

export interface Overlap {
  /** Fraction of pixels whose class differs. */
  readonly pixelError: number;
  /** |T ∩ P| / |T ∪ P| of the foregrounds; 1 when both are empty. */
  readonly iou: number;
  /** 2 |T ∩ P| / (|T| + |P|); 1 when both are empty. */
  readonly dice: number;
}

export function overlap(truth: ArrayLike<number>, prediction: ArrayLike<number>): Overlap {
  if (truth.length !== prediction.length) throw new RangeError(`masks differ in size: ${truth.length} and ${prediction.length} pixels`);
  let both = 0;
  let t = 0;
  let p = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = truth[i] !== 0;
    const b = prediction[i] !== 0;
    if (a) t++;
    if (b) p++;
    if (a && b) both++;
  }
  const union = t + p - both;
  return {
    pixelError: truth.length === 0 ? 0 : (union - both) / truth.length,
    iou: union === 0 ? 1 : both / union,
    dice: t + p === 0 ? 1 : (2 * both) / (t + p),
  };
}
