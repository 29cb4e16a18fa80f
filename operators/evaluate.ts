import * as t from 'io-ts';
import { NonNegativeInt, Probability, oneOf, refine, closedObject } from '../src/codec/building-blocks.js';
import { describe, sameSize, type Image } from '../src/image/image.js';
import { foregroundAbove, foregroundOfClass, foregroundOfProbability } from '../src/kernels/metrics/foreground.js';
import { segmentationMetrics } from '../src/kernels/metrics/segmentation.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export { meanMetrics, metricNames, type SegmentationMetrics } from '../src/kernels/metrics/segmentation.js';

export const EvaluateParams = closedObject(
  'evaluate parameters',
  {},
  {
    /** Prediction to score: `mask` (pixels equal to `class`) or `probabilities` (p(class) >= `at`). @default 'mask' when the sample has one, else 'probabilities' */
    from: oneOf(['mask', 'probabilities']),
    /** Foreground class. @default 1 */
    class: NonNegativeInt,
    /** Threshold on the foreground probability, with `from: probabilities`. @default 0.5 */
    at: Probability,
    /** Connectivity of the segments (connected components of foreground) that Rand and VI compare. @default 4 */
    connectivity: refine(t.number, (n) => n === 4 || n === 8, '4 or 8') as t.Type<4 | 8, number, unknown>,
  },
);
export type EvaluateParams = t.TypeOf<typeof EvaluateParams>;

/**
 * Scores each sample's prediction against its label and attaches the scores as
 * `sample.metadata.metrics` (a SegmentationMetrics record): pixel error, the ISBI 2012
 * foreground-restricted Rand error, scikit-image's adapted Rand error, variation of
 * information (split and merge, bits), warping error with splits and merges, IoU and
 * Dice. The label's foreground is every nonzero pixel (ISBI: 255 = cell interior).
 * Conventions: docs/metrics.md.
 *
 * @example
 * pairs$.pipe(load(), mirror(g), tile(g), unet({ model }), stitch(), threshold({}), evaluate({}))
 *   .subscribe((s) => console.log(s.id, s.metadata?.metrics))
 * @see meanMetrics to average the per-image records
 * @see threshold
 * @param params `from`, `class`, `at`, `connectivity`
 */
export function evaluate(params: EvaluateParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('evaluate', EvaluateParams, params);
  const cls = p.class ?? 1;
  const at = p.at ?? 0.5;
  const options = { connectivity: p.connectivity ?? 4 };
  return perSample('evaluate', ctx, (sample) => {
    const label = sample.label;
    if (!label) throw new Error('no label to compare with (use a pairs source, so that load reads each image\'s label)');
    const from = p.from ?? (sample.mask ? 'mask' : 'probabilities');
    const prediction: Image | undefined = from === 'mask' ? sample.mask : sample.probabilities;
    if (!prediction) {
      throw new Error(from === 'mask' ? 'no mask to evaluate (add a threshold step before evaluate)' : 'no mask or probabilities to evaluate (unet and stitch must come before evaluate)');
    }
    if (!sameSize(label, prediction)) {
      throw new Error(`the label is ${describe(label)} but the ${from} ${describe(prediction)}: evaluate full images, after stitch`);
    }
    const truth = foregroundAbove(label, 0, 'the label');
    const predicted = from === 'mask' ? foregroundOfClass(prediction, cls) : foregroundOfProbability(prediction, cls, at);
    const metrics = segmentationMetrics(truth, predicted, label.width, label.height, options);
    return { ...sample, metadata: { ...sample.metadata, metrics } };
  });
}
