/**
 * Small data: one annotated image split into a training part and a held-out part for
 * validation (`split` step), and an input normalisation recomputed from the new images
 * (`train: { normalisation: recompute }`).
 */
import { quantile, type Normalisation } from '../../image/convert.js';
import type { Rect } from '../../kernels/mirror.js';

export type Side = 'left' | 'right' | 'top' | 'bottom';

/** The held-out part of one image, as `split` records it in `metadata.heldOut` for `train`. */
export interface HeldOut {
  readonly path: string;
  readonly labelPath?: string;
  readonly page?: number;
  /** In the file's pixel coordinates. */
  readonly region: Rect;
}

/**
 * The two rectangles of a `width` x `height` image when `fraction` of it on `side` is
 * held out (rounded to whole pixels, at least one each side).
 */
export function heldOutRegions(width: number, height: number, side: Side, fraction: number): { train: Rect; heldOut: Rect } {
  const horizontal = side === 'left' || side === 'right';
  const extent = horizontal ? width : height;
  const held = Math.round(extent * fraction);
  if (held < 1 || held > extent - 1) {
    throw new RangeError(`holding out ${fraction} of ${extent} px leaves ${held} px held out and ${extent - held} to train on: both need at least 1`);
  }
  const keep = extent - held;
  const first = side === 'left' || side === 'top' ? held : 0; // where the training part starts
  const heldAt = first === 0 ? keep : 0;
  if (horizontal) {
    return { train: { x: first, y: 0, width: keep, height }, heldOut: { x: heldAt, y: 0, width: held, height } };
  }
  return { train: { x: 0, y: first, width, height: keep }, heldOut: { x: 0, y: heldAt, width, height: held } };
}

/** The held-out record a sample carries, if `split` set one. */
export function heldOutOf(metadata: Readonly<Record<string, unknown>> | undefined): HeldOut | undefined {
  const h = metadata?.heldOut as HeldOut | undefined;
  return h && typeof h.path === 'string' && h.region ? h : undefined;
}

/**
 * A fixed `range` normalisation from the 1st and 99.8th percentiles of raw pixel values
 * (those of `percentile` normalisation, but fixed, so that every tile of every image
 * is mapped alike at training and at prediction).
 */
export function recomputedNormalisation(values: readonly ArrayLike<number>[], low = 1, high = 99.8): Normalisation & { method: 'range' } {
  const n = values.reduce((sum, v) => sum + v.length, 0);
  if (n === 0) throw new RangeError('no pixel values to compute a normalisation from');
  const all = new Float64Array(n);
  let o = 0;
  for (const v of values) for (let i = 0; i < v.length; i++) all[o++] = v[i];
  all.sort();
  const min = quantile(all, low / 100);
  let max = quantile(all, high / 100);
  if (!(max > min)) max = all[n - 1] > min ? all[n - 1] : min + 1; // a flat image: keep the mapping defined
  return { method: 'range', min, max };
}
