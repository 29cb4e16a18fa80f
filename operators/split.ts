import * as t from 'io-ts';
import { oneOf, refine, closedObject } from '../src/codec/building-blocks.js';
import { crop } from '../src/kernels/mirror.js';
import { heldOutRegions, type HeldOut, type Side } from '../src/model/training/finetune-split.js';
import type { Sample } from '../src/sample.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const SplitParams = closedObject(
  'split parameters',
  { /** The side of each image kept for validation. */ holdOut: oneOf(['left', 'right', 'top', 'bottom']) },
  {
    /** Fraction of the width (left, right) or height (top, bottom) held out. @default 0.25 */
    fraction: refine(t.number, (n) => n > 0 && n < 1, 'a number between 0 and 1 (exclusive)'),
  },
);
export type SplitParams = t.TypeOf<typeof SplitParams>;

/**
 * Holds out a part of each training image for validation, for when there is only one
 * annotated image (or a few): the sample goes on cropped to the rest (image, label,
 * weights), and records the held-out rectangle of its file in `metadata.heldOut`, which
 * `train: { validation: { every } }` without images predicts and scores. Place it
 * right after `load`, before `elastic`, so that no deformation carries held-out pixels
 * into the training part.
 *
 * @example
 * pairs$.pipe(load(), split({ holdOut: 'right', fraction: 0.5 }), elastic({}), weightMap({}), randomTiles({ ... }), train({ from, model, validation: { every: 50 } }))
 * @see train
 * @param params.holdOut left, right, top or bottom
 * @param params.fraction @default 0.25
 */
export function split(params: SplitParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('split', SplitParams, params);
  const side = p.holdOut as Side;
  const fraction = p.fraction ?? 0.25;
  return perSample('split', ctx, (sample: Sample): Sample => {
    if (sample.tile || sample.mirroring || sample.padding) throw new RangeError('split takes whole, unmirrored images: place it right after load');
    const { train, heldOut } = heldOutRegions(sample.image.width, sample.image.height, side, fraction);
    const part = <I extends Sample['image']>(image: I | undefined): I | undefined => {
      if (!image) return undefined;
      if (image.width !== sample.image.width || image.height !== sample.image.height) {
        throw new RangeError(`a label or weights of ${image.width}x${image.height} beside an image of ${sample.image.width}x${sample.image.height}`);
      }
      return crop(image, train) as I;
    };
    const record: HeldOut = {
      path: sample.source.path,
      ...(sample.source.labelPath ? { labelPath: sample.source.labelPath } : {}),
      ...(sample.source.page !== undefined ? { page: sample.source.page } : {}),
      region: heldOut,
    };
    const label = part(sample.label);
    const weights = part(sample.weights);
    return {
      ...sample,
      image: part(sample.image)!,
      ...(label ? { label } : {}),
      ...(weights ? { weights } : {}),
      metadata: { ...sample.metadata, heldOut: record },
    };
  });
}
