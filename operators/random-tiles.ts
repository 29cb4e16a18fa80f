import * as t from 'io-ts';
import { PositiveInt, Probability, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { cutTrainingTile, drawTileWindows } from '../src/model/training/tiles.js';
import { createRng, deriveSeed } from '../src/random.js';
import type { Sample } from '../src/sample.js';
import { geometryProps, requireGeometry } from './geometry.js';
import { decodeParams, flatPerSample, type SampleOperator, type StepContext } from './step.js';

export const RandomTilesParams = closedObject(
  'random-tiles parameters',
  {},
  {
    ...geometryProps,
    /** Tiles cut from each sample. @default 1 */
    count: PositiveInt,
    /** Fraction of tiles centred on a foreground pixel of the label (label > 0). @default 0 */
    foreground: Probability,
    /** Mirroring where the input window runs past the image border. @default 'reflect' */
    mode: oneOf(['reflect', 'symmetric']),
  },
);
export type RandomTilesParams = t.TypeOf<typeof RandomTilesParams>;

/**
 * Cuts random training tiles from each sample: the image at the network's input size,
 * label and weights (when present) at its output size over the same window, ready for
 * `train`. The output window lies inside the image; the input window is mirrored
 * where it runs past the border. An image smaller than the output window (a small
 * annotated crop) is mirrored too, as the U-Net paper extrapolates the border for
 * training: each window covers the whole short side and runs past it, image, label and
 * weights mirrored alike, and a `log` note says so (in the first epoch). Tiles keep the
 * network's size, so that those of large and small images batch together. Optionally
 * biased toward foreground. Randomness comes from the step seed, the sample id and the
 * epoch only, so the tiles do not depend on arrival order or concurrency, and each
 * epoch cuts new ones. Tile ids are `<id>#r<k>`.
 *
 * @example
 * pairs$.pipe(load(), elastic({ ... }), weightMap({ ... }), randomTiles({ model: 'models/cells', count: 4, foreground: 0.5 }), train({ model: 'models/cells' }))
 * @see train
 * @see tile
 * @param params.count tiles per sample
 * @param params.foreground fraction of tiles centred on foreground
 */
export function randomTiles(params: RandomTilesParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('random-tiles', RandomTilesParams, params);
  const geometry = requireGeometry('random-tiles', p, ctx.baseDir, ctx.models);
  const sizes = geometry.kind === 'valid' ? { input: geometry.input, output: geometry.output } : { input: geometry.tile, output: geometry.tile };
  const count = p.count ?? 1;
  const seed = ctx.seed ?? 0;
  const step = ctx.step ?? 'random-tiles';
  const noteMirrored = (sample: Sample) => {
    const { width, height } = sample.image;
    // Once per image: on the first pass over the source, not again each epoch.
    if ((width >= sizes.output && height >= sizes.output) || (sample.source.epoch ?? 0) > 0) return;
    const message =
      `${step}: ${sample.source.path}: the image is ${width}x${height}, smaller than the network's ${sizes.output} px output: ` +
      'its training tiles are mirrored past the border (image, label and weights alike)';
    ctx.emit?.({ type: 'log', level: 'info', message, file: sample.source.path });
  };
  return flatPerSample('random-tiles', ctx, (sample: Sample) => {
    if (sample.padding || sample.mirroring || sample.tile) throw new RangeError('random-tiles takes whole, unmirrored samples (it mirrors as needed): place it before mirror and tile');
    for (const [what, image] of [['label', sample.label], ['weights', sample.weights]] as const) {
      if (image && (image.width !== sample.image.width || image.height !== sample.image.height)) {
        throw new RangeError(`${what} is ${image.width}x${image.height}, the image ${sample.image.width}x${sample.image.height}`);
      }
    }
    noteMirrored(sample);
    const rng = createRng(deriveSeed(seed, sample.id, sample.source.epoch ?? 0));
    const windows = drawTileWindows(rng, sample.image.width, sample.image.height, sample.label, { output: sizes.output, count, foreground: p.foreground });
    return windows.map((window, k): Sample => {
      const { image, label, weights } = cutTrainingTile(sample, window, sizes, p.mode ?? 'reflect');
      const { probabilities: _p, mask: _m, instances: _i, label: _l, weights: _w, ...rest } = sample;
      return {
        ...rest,
        id: `${sample.id}#r${k}`,
        image,
        ...(label ? { label } : {}),
        ...(weights ? { weights } : {}),
        metadata: { ...sample.metadata, randomTile: { y: window.y, x: window.x, output: sizes.output, foreground: window.foreground } },
      };
    });
  });
}
