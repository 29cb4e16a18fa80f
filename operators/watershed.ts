import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt, Probability, closedObject } from '../src/codec/building-blocks.js';
import { makeImage } from '../src/image/image.js';
import { instanceImage } from '../src/kernels/components.js';
import { requireClass } from '../src/kernels/metrics/foreground.js';
import { seededWatershed } from '../src/kernels/watershed.js';
import { ConfigError } from '../src/errors.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const WatershedParams = closedObject(
  'watershed parameters',
  {},
  {
    /** Class whose probability is segmented. @default 1 */
    class: NonNegativeInt,
    /** Foreground: pixels with p(class) >= at, as a threshold step would keep. @default 0.5 */
    at: Probability,
    /** Object cores: connected regions with p(class) >= seeds; at least `at`. @default 0.9 */
    seeds: Probability,
    /** Cores smaller than this many pixels start no object of their own. @default 10 */
    minSeedArea: PositiveInt,
  },
);
export type WatershedParams = t.TypeOf<typeof WatershedParams>;

/**
 * Turns class probabilities into objects by a seeded watershed: a threshold at `at` gives
 * the foreground, the confident cores (p >= `seeds`) start one object each, and every
 * foreground pixel joins the core it reaches along the most probable path. Touching
 * objects are then parted by a 1 px background line. Sets both `instances` (uint16 ids,
 * 0 = background; their count as `metadata.objects`) and `mask` (0/1, objects apart),
 * so `evaluate`, `save` and the `measurements` output see the separated objects. Where `threshold` would merge two
 * cells through a faint gap in their membrane, this keeps them apart.
 *
 * @example
 * samples$.pipe(unet({ model }), stitch(), watershed({ at: 0.5, seeds: 0.9 }), save({ dir, outputs: ['mask', 'instances'] }))
 * @see threshold for a plain threshold
 * @see instances for connected components of a mask
 * @param params `class`, `at`, `seeds`, `minSeedArea`
 */
export function watershed(params: WatershedParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('watershed', WatershedParams, params);
  const cls = p.class ?? 1;
  const at = p.at ?? 0.5;
  const seeds = p.seeds ?? 0.9;
  const minSeedArea = p.minSeedArea ?? 10;
  if (seeds < at) throw new ConfigError(`watershed: seeds (${seeds}) must be at least at (${at}): cores are the confident part of the foreground`);
  return perSample('watershed', ctx, (sample) => {
    const probs = sample.probabilities;
    if (!probs) throw new Error('no probabilities to segment (a unet and stitch step must come before watershed)');
    const { width: w, height: h, channels } = probs;
    requireClass(probs, cls);
    // The class is read in place from the probabilities, and one id map is made, parted in place.
    const { labels, count } = seededWatershed(probs.data, w, h, { at, seeds, minSeedArea, channels, channel: cls, separate: true });
    const mask = new Uint8Array(w * h);
    for (let i = 0; i < mask.length; i++) mask[i] = labels[i] === 0 ? 0 : 1;
    return {
      ...sample,
      instances: instanceImage(labels, count, w, h),
      mask: makeImage(w, h, 1, 'uint8', mask),
      metadata: { ...sample.metadata, objects: count },
    };
  });
}
