import * as t from 'io-ts';
import { NonNegativeInt, Probability, oneOf, strict } from '../src/codec/strict.js';
import { makeImage, type Image } from '../src/image/image.js';
import { foregroundOfProbability } from '../src/kernels/metrics/foreground.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const ThresholdParams = strict(
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
 * @example
 * samples$.pipe(unet({ model }), stitch(), threshold({ class: 1, at: 0.5 }), save({ dir, outputs: ['mask'] }))
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
    const mask = mode === 'threshold' ? foregroundOfProbability(probs, cls, at) : argmax(probs);
    return { ...sample, mask: makeImage(probs.width, probs.height, 1, 'uint8', mask) };
  });
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
