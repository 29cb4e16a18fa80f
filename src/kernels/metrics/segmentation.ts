/**
 * Every metric of a binary prediction against a binary ground truth, as one flat record
 * (easy to tabulate, average and write as JSON), and the mean over images.
 * Conventions: docs/metrics.md.
 */
import { connectedComponents, type Connectivity } from '../components.js';
import { adaptedRandError } from './adapted-rand.js';
import { foregroundContingency } from './contingency.js';
import { overlap } from './overlap.js';
import { foregroundRestrictedRandError } from './rand.js';
import { variationOfInformation } from './variation-of-information.js';
import { warpingError } from './warping.js';

export interface SegmentationMetrics {
  /** Fraction of pixels whose binary class differs. */
  pixelError: number;
  /** ISBI 2012 foreground-restricted Rand error (Fiji's V_Rand definition). */
  randError: number;
  randPrecision: number;
  randRecall: number;
  /** scikit-image's adapted_rand_error. */
  adaptedRandError: number;
  /** Variation of information, bits: H(prediction | truth). */
  viSplit: number;
  /** H(truth | prediction), bits. */
  viMerge: number;
  vi: number;
  /** Jain et al. 2010, topology-preserving warp of the truth toward the prediction. */
  warpingError: number;
  splits: number;
  merges: number;
  iou: number;
  dice: number;
  truthSegments: number;
  predictedSegments: number;
}

export const metricNames = [
  'pixelError', 'randError', 'randPrecision', 'randRecall', 'adaptedRandError', 'viSplit', 'viMerge', 'vi',
  'warpingError', 'splits', 'merges', 'iou', 'dice', 'truthSegments', 'predictedSegments',
] as const satisfies readonly (keyof SegmentationMetrics)[];

export interface MetricOptions {
  /** Connectivity of the segments that Rand and VI compare (connected components of foreground). @default 4 */
  readonly connectivity?: Connectivity;
}

/** @param truth, prediction binary masks (nonzero = foreground), width * height each */
export function segmentationMetrics(
  truth: ArrayLike<number>,
  prediction: ArrayLike<number>,
  width: number,
  height: number,
  options: MetricOptions = {},
): SegmentationMetrics {
  const { connectivity = 4 } = options;
  if (truth.length !== width * height || prediction.length !== width * height) {
    throw new RangeError(`masks must have ${width}x${height} = ${width * height} pixels, got ${truth.length} (truth) and ${prediction.length} (prediction)`);
  }
  const t = connectedComponents(truth, width, height, connectivity);
  const p = connectedComponents(prediction, width, height, connectivity);
  const table = foregroundContingency(t.labels, p.labels);
  const rand = foregroundRestrictedRandError(table);
  const vi = variationOfInformation(table);
  const warping = warpingError(truth, prediction, width, height);
  const { pixelError, iou, dice } = overlap(truth, prediction);
  return {
    pixelError,
    randError: rand.error,
    randPrecision: rand.precision,
    randRecall: rand.recall,
    adaptedRandError: adaptedRandError(table).error,
    viSplit: vi.split,
    viMerge: vi.merge,
    vi: vi.total,
    warpingError: warping.error,
    splits: warping.splits,
    merges: warping.merges,
    iou,
    dice,
    truthSegments: t.count,
    predictedSegments: p.count,
  };
}

/** The per-metric mean over images (each image weighs the same, as in the ISBI ranking). */
export function meanMetrics(perImage: readonly SegmentationMetrics[]): SegmentationMetrics {
  if (perImage.length === 0) throw new RangeError('no metrics to average: evaluate at least one image');
  const mean = {} as SegmentationMetrics;
  for (const name of metricNames) mean[name] = perImage.reduce((sum, m) => sum + m[name], 0) / perImage.length;
  return mean;
}
