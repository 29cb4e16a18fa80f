import * as t from 'io-ts';
import { NonNegativeInt, Probability, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { makeImage, type Image } from '../src/image/image.js';
import { requireClass } from '../src/kernels/metrics/foreground.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const ThresholdParams = closedObject(
  'threshold parameters',
  {},
  {
    /** `threshold`: mask = p(class) >= at (0/1); `argmax`: mask = the most probable class. @default 'threshold' */
    mode: oneOf(['threshold', 'argmax']),
    /** Class whose probability is thresholded. @default 1 */
    class: NonNegativeInt,
    /** Threshold on that probability. @default 0.5 */
    at: Probability,
  },
);
export type ThresholdParams = t.TypeOf<typeof ThresholdParams>;

/**
 * Turns class probabilities into a mask (uint8): 0/1 for a threshold on one class,
 * class indices for argmax. `save` writes a 0/1 mask as 0/255.
 *
 * Tiles of a valid (unpadded) network can be thresholded before `stitch`, which then
 * stitches the mask (`stitch: { field: mask }`): the same mask, without a float
 * probability map of the whole image ever being held. Tiles of a same-padded network
 * overlap and are blended, so they are thresholded after `stitch`.
 *
 * @example
 * samples$.pipe(unet({ model }), stitch(), threshold({ class: 1, at: 0.5 }), save({ dir, outputs: ['mask'] }))
 * samples$.pipe(unet({ model }), threshold({ class: 1, at: 0.5 }), stitch({ field: 'mask' })) // a valid network's tiles
 * @see instances
 */
export function threshold(params: ThresholdParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('threshold', ThresholdParams, params);
  const mode = p.mode ?? 'threshold';
  const cls = p.class ?? 1;
  const at = p.at ?? 0.5;
  return perSample('threshold', ctx, (sample) => {
    const probs = sample.probabilities;
    if (!probs) throw new Error('no probabilities to threshold (a unet and stitch step must come before threshold)');
    if (sample.tile?.grid.geometry.kind === 'same') {
      throw new Error('the tiles of a same-padded network are blended by stitch: threshold after stitch, not before');
    }
    const mask = mode === 'threshold' ? above(probs, cls, at) : argmax(probs);
    return { ...sample, mask: makeImage(probs.width, probs.height, 1, 'uint8', mask) };
  });
}

/** Pixels whose probability of class `cls` is at least `at`, read in place (no per-class copy). */
function above(probs: Image<'float32'>, cls: number, at: number): Uint8Array {
  requireClass(probs, cls);
  const k = probs.channels;
  const out = new Uint8Array(probs.width * probs.height);
  for (let i = 0; i < out.length; i++) out[i] = probs.data[i * k + cls] >= at ? 1 : 0;
  return out;
}

/** The most probable class of each pixel. */
function argmax(probs: Image<'float32'>): Uint8Array {
  const k = probs.channels;
  const out = new Uint8Array(probs.width * probs.height);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs.data[i * k + c] > probs.data[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}
