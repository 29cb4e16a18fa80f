import * as t from 'io-ts';
import { oneOf, strict } from '../src/codec/strict.js';
import { crop, mirrorPad } from '../src/kernels/mirror.js';
import { tileGrid, type TileGrid } from '../src/kernels/tiling.js';
import { mapPaddedFields, type Margins, type Sample } from '../src/sample.js';
import { geometryProps, requireGeometry } from './geometry.js';
import { decodeParams, flatPerSample, type SampleOperator, type StepContext } from './step.js';

export const TileParams = strict(
  'tile parameters',
  {},
  {
    ...geometryProps,
    /** Mirroring used when the image arrives unmirrored. @default 'reflect' */
    mode: oneOf(['reflect', 'symmetric']),
  },
);
export type TileParams = t.TypeOf<typeof TileParams>;

/**
 * Cuts each image into the overlap-tiles of a network geometry. Every tile is a
 * Sample of its own (id `<parent>#<index>`) carrying its grid position and its
 * parent, so `stitch` can regroup tiles of many images in any order. A label and
 * weights are cut with the image, so tiles of training samples can go to `train`. Tiles are cut
 * lazily, as downstream asks for them, so a large image is never held as all its tiles.
 *
 * An image mirrored by `mirror` with the same geometry is used as it is; an
 * unmirrored one is mirrored here first.
 *
 * @example
 * samples$.pipe(mirror({ input: 572, output: 388 }), tile({ input: 572, output: 388 }), unet(...), stitch())
 * @see mirror
 * @see stitch
 */
export function tile(params: TileParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('tile', TileParams, params);
  const g = requireGeometry('tile', p, ctx.baseDir);
  return flatPerSample('tile', ctx, (sample) => {
    const original = sample.padding
      ? { height: sample.image.height - sample.padding.top - sample.padding.bottom, width: sample.image.width - sample.padding.left - sample.padding.right }
      : sample.image;
    const grid = tileGrid(original.height, original.width, g);
    let parent: Sample;
    if (!sample.padding) {
      parent = { ...sample, ...mapPaddedFields(sample, (image) => mirrorPad(image, grid.padding, p.mode ?? 'reflect')), padding: grid.padding };
    } else if (sameMargins(sample.padding, grid.padding)) {
      parent = sample;
    } else {
      throw new Error(
        `the image was mirrored by ${showMargins(sample.padding)} but this geometry needs ${showMargins(grid.padding)}: ` +
          'give mirror the same geometry as tile',
      );
    }
    return tiles(parent, grid);
  });
}

function* tiles(parent: Sample, grid: TileGrid): Generator<Sample> {
  for (let row = 0; row < grid.rows.length; row++) {
    for (let col = 0; col < grid.cols.length; col++) {
      const index = row * grid.cols.length + col;
      const rect = { y: grid.rows[row], x: grid.cols[col], width: grid.inputSize, height: grid.inputSize };
      // A training sample's label and weights are cut with its image, at the input tile's size.
      const fields = mapPaddedFields(parent, (image) => crop(image, rect));
      yield { id: `${parent.id}#${index}`, source: parent.source, image: fields.image!, ...fields, tile: { index, row, col, grid, parent } };
    }
  }
}

function sameMargins(a: Margins, b: Margins): boolean {
  return a.top === b.top && a.bottom === b.bottom && a.left === b.left && a.right === b.right;
}

function showMargins(m: Margins): string {
  return `top ${m.top}, bottom ${m.bottom}, left ${m.left}, right ${m.right}`;
}
