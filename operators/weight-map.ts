import * as t from 'io-ts';
import { NonNegativeNumber, PositiveNumber, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { sameSize } from '../src/image/image.js';
import { weightMap as computeWeightMap, type ClassWeights } from '../src/kernels/weight-map.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const WeightMapParams = closedObject(
  'weight-map parameters',
  {},
  {
    /** `binary` (0 and one foreground value; instances = components) or `instances` (ids). @default 'binary' */
    input: oneOf(['binary', 'instances']),
    /** Connectivity of a binary label's instances. @default 4 */
    connectivity: t.union([t.literal(4), t.literal(8)]),
    /** Weight of the border term. @default 10 */
    w0: NonNegativeNumber,
    /** Width of the border term, px. @default 5 */
    sigma: PositiveNumber,
    /** 'balanced' | 'frequent-one' | 'none' | [background, foreground]. @default 'balanced' */
    classWeights: t.union([oneOf(['balanced', 'frequent-one', 'none']), t.tuple([NonNegativeNumber, NonNegativeNumber])]),
    /** Pixels that get the border term. @default 'background' */
    border: oneOf(['background', 'all']),
    /** Separate touching instances by 1 px of background first (Fiji plugin); the label is replaced too. @default false */
    gap: t.boolean,
  },
);
export type WeightMapParams = t.TypeOf<typeof WeightMapParams>;

/**
 * Adds the loss weight map of the paper's equation 2 to each sample, from its label:
 * w = w_c + w0 · exp(-(d1 + d2)² / 2σ²), with d1, d2 the exact Euclidean distances to
 * the nearest and second-nearest cell. Samples without a label, or whose label does
 * not match the image, fail with a message; a label without cells, or with one,
 * gets the class weights alone.
 *
 * Run it after `elastic` to weigh the deformed label (or before: `elastic` warps
 * existing weights linearly).
 *
 * @example
 * pairs$.pipe(load(), elastic({}, { seed: 1 }), weightMap({ w0: 10, sigma: 5 }))
 * @see elastic
 * @param params.input @default 'binary'
 * @param params.connectivity @default 4
 * @param params.w0 @default 10
 * @param params.sigma @default 5
 * @param params.classWeights @default 'balanced'
 * @param params.border @default 'background'
 * @param params.gap @default false
 */
export function weightMap(params: WeightMapParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('weight-map', WeightMapParams, params);
  const options = { ...p, classWeights: p.classWeights as ClassWeights | undefined };
  return perSample('weight-map', ctx, (sample) => {
    const { label } = sample;
    if (!label) throw new Error('the sample has no label: weight-map needs one (read pairs of image and label)');
    if (!sameSize(label, sample.image)) {
      throw new Error(`the label is ${label.width}x${label.height} but the image is ${sample.image.width}x${sample.image.height}`);
    }
    const result = computeWeightMap(label, options);
    return { ...sample, label: result.label, weights: result.weights };
  });
}
