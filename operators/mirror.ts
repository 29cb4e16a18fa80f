import * as t from 'io-ts';
import { ConfigError } from '../src/errors.js';
import { NonNegativeInt, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { uniformMargins, type Margins } from '../src/kernels/mirror.js';
import { planGrid } from '../src/model/network/tile-size.js';
import { mapPaddedFields } from '../src/sample.js';
import { geometryProps, operatorPlan } from './geometry.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const MirrorParams = closedObject(
  'mirror parameters',
  {},
  {
    /** The same margin on all four sides, px. */
    margin: NonNegativeInt,
    /** Margins per side, px. */
    margins: closedObject('margins', { top: NonNegativeInt, bottom: NonNegativeInt, left: NonNegativeInt, right: NonNegativeInt }, {}),
    /** `reflect`: edge pixel not repeated (numpy 'reflect'); `symmetric`: repeated. @default 'reflect' */
    mode: oneOf(['reflect', 'symmetric']),
    ...geometryProps,
  },
);
export type MirrorParams = t.TypeOf<typeof MirrorParams>;

/**
 * Extrapolates each image by mirroring it at its borders (paper, Fig. 2), by a fixed
 * margin or by exactly what a tile geometry needs (with `size: auto`, what the tiles
 * `tile` chooses for the image need: both steps choose them alike). The mirroring is recorded in
 * `sample.mirroring` and applied by `tile` as it cuts each tile through mirrored
 * indices: the image keeps its size, and no mirrored copy of it is made. A label and
 * weights are mirrored with the image (mirroring copies values, so a label gains no
 * new ones).
 *
 * @example
 * files$.pipe(load(), mirror({ input: 572, output: 388 }), tile({ input: 572, output: 388 }), stitch())
 * @see tile
 * @param params one of `margin`, `margins`, or a tile geometry (`input` + `output`, or `size` [+ `overlap`])
 */
export function mirror(params: MirrorParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('mirror', MirrorParams, params);
  const geometry = operatorPlan('mirror', p, ctx.baseDir, ctx.backend, ctx.models);
  const given = [p.margin !== undefined, p.margins !== undefined, geometry !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new ConfigError('mirror: give exactly one of margin, margins, or a tile geometry (model, input + output, or size)');
  }
  const mode = p.mode ?? 'reflect';
  const marginsFor = (height: number, width: number): Margins =>
    geometry ? planGrid(height, width, geometry).padding : p.margins ?? uniformMargins(p.margin!);

  return perSample('mirror', ctx, (sample) => {
    if (sample.padding || sample.mirroring) throw new Error('the image is already mirrored; mirror once, with the margins the network needs');
    mapPaddedFields(sample, (image) => image); // a label or weights of another size is refused here, not at the first tile
    return { ...sample, mirroring: { margins: marginsFor(sample.image.height, sample.image.width), mode } };
  });
}
