import * as t from 'io-ts';
import { ConfigError } from '../src/errors.js';
import { NonNegativeNumber, Probability, oneOf, refine, closedObject } from '../src/codec/building-blocks.js';
import { sameSize, type Image } from '../src/image/image.js';
import {
  checkControlGrid,
  displacementField,
  sampleDisplacement,
  warp,
  type ControlGrid,
  type DisplacementField,
  type Interpolation,
} from '../src/kernels/elastic.js';
import { createRng, deriveSeed } from '../src/random.js';
import type { Sample } from '../src/sample.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

const Grid = t.array(t.array(refine(t.number, Number.isFinite, 'a finite number')));

export const ElasticParams = closedObject(
  'elastic parameters',
  {},
  {
    /** Control points per side, spanning the image corner to corner. @default 3 */
    controlPoints: refine(t.number, (n) => Number.isInteger(n) && n >= 2, 'an integer >= 2'),
    /** Standard deviation of each control displacement, px. @default 10 */
    sigma: NonNegativeNumber,
    /** Image interpolation; labels always use nearest, weights linear. @default 'cubic' */
    interpolation: oneOf(['cubic', 'linear']),
    /** Chance that a sample is deformed at all. @default 1 */
    probability: Probability,
    /** Fixed control displacements (n x n, px, row-major) replacing the random draw. */
    displacement: closedObject('displacement', { dy: Grid, dx: Grid }, {}),
  },
);
export type ElasticParams = t.TypeOf<typeof ElasticParams>;

/** How each image field of a sample is resampled: labels must keep their values. */
const FIELD_INTERPOLATION = { label: 'nearest', mask: 'nearest', instances: 'nearest', weights: 'linear', probabilities: 'linear' } as const;

/**
 * Deforms each sample elastically (paper, section 3.1): random displacements on a
 * coarse grid of control points, interpolated to a smooth field by a cubic B-spline,
 * then a backward warp. One draw per sample is shared by its image (cubic or linear),
 * label, mask and instances (nearest: no new values) and weights (linear).
 *
 * The draw comes from deriveSeed(ctx.seed, sample.id, epoch): the same pipeline seed,
 * sample id and epoch give the same deformation, whatever the order or concurrency,
 * and every epoch of a training run draws a new one. A sample
 * first draws whether it is deformed (`probability`), then its displacements.
 * Conventions (control point placement, boundaries) are in src/kernels/elastic.ts.
 *
 * @example
 * pairs$.pipe(load(), elastic({ sigma: 10, controlPoints: 3 }, { seed: 7 }), weightMap())
 * @see weightMap
 * @param params.controlPoints grid size n @default 3
 * @param params.sigma px @default 10
 * @param params.interpolation of the image @default 'cubic'
 * @param params.probability @default 1
 * @param params.displacement `{ dy, dx }`, n x n px each, instead of a random draw
 */
export function elastic(params: ElasticParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('elastic', ElasticParams, params);
  let fixed: ControlGrid | undefined;
  if (p.displacement) {
    try {
      const n = checkControlGrid(p.displacement);
      if (p.controlPoints !== undefined && p.controlPoints !== n) {
        throw new Error(`controlPoints is ${p.controlPoints} but the displacement grid is ${n} x ${n}`);
      }
    } catch (error) {
      throw new ConfigError(`elastic: displacement: ${(error as Error).message}`);
    }
    fixed = p.displacement;
  }
  const n = p.controlPoints ?? 3;
  const sigma = p.sigma ?? 10;
  const probability = p.probability ?? 1;
  const interpolation: Interpolation = p.interpolation ?? 'cubic';
  const seed = ctx.seed ?? 0;

  return perSample('elastic', ctx, (sample) => {
    const rng = createRng(deriveSeed(seed, sample.id, sample.source.epoch ?? 0));
    if (!(rng.next() < probability)) return sample;
    const grid = fixed ?? sampleDisplacement(rng, n, sigma);
    const field = displacementField(grid, sample.image.width, sample.image.height);
    const out: { -readonly [K in keyof Sample]: Sample[K] } = { ...sample, image: warp(sample.image, field, interpolation) };
    for (const [name, how] of Object.entries(FIELD_INTERPOLATION) as [keyof typeof FIELD_INTERPOLATION, Interpolation][]) {
      const image = sample[name];
      if (image) (out[name] as Image) = warpField(name, image, sample.image, field, how);
    }
    return out;
  });
}

function warpField(name: string, image: Image, reference: Image, field: DisplacementField, how: Interpolation): Image {
  if (!sameSize(image, reference)) {
    throw new Error(`the ${name} is ${image.width}x${image.height} but the image is ${reference.width}x${reference.height}: they must match to share a deformation`);
  }
  return warp(image, field, how);
}
