import * as t from 'io-ts';
import { Observable } from 'rxjs';
import { SampleError } from '../src/errors.js';
import { oneOf, closedObject } from '../src/codec/building-blocks.js';
import { unpad } from '../src/kernels/mirror.js';
import { createStitcher, type Stitcher } from '../src/kernels/stitch.js';
import { imageFields, mapPaddedFields, type ImageField, type Sample } from '../src/sample.js';
import { stitchDownstream } from '../src/tile-budget.js';
import { decodeParams, type SampleOperator, type StepContext } from './step.js';

export const StitchParams = closedObject(
  'stitch parameters',
  {},
  {
    /** Field of the tiles to stitch. @default 'probabilities' when tiles carry it, else 'image' */
    field: oneOf(imageFields),
  },
);
export type StitchParams = t.TypeOf<typeof StitchParams>;

/**
 * Regroups tiles by parent and emits each parent, with the stitched field at the
 * original size and its mirrored margins removed, as soon as its last tile arrives.
 * Tiles of different images may interleave. Non-tile samples pass through.
 *
 * Each tile is placed into its parent's result as it arrives and then let go, and its
 * permit goes back to `tile`, which cuts the next one: the tiles in flight stay
 * within `tile`'s `inFlight`, whatever the image size.
 *
 * If the stream completes while an image still misses tiles (one failed upstream),
 * that image is reported as failed through the context (or errors the stream).
 *
 * @example
 * samples$.pipe(mirror(g), tile(g), unet({ model }), stitch())
 * @see tile
 */
export function stitch(params: StitchParams = {}, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('stitch', StitchParams, params);
  const step = ctx.step ?? 'stitch';
  return (source) =>
    new Observable<Sample>((subscriber) => {
      const open = new Map<string, { stitcher: Stitcher; field: ImageField; parent: Sample; count: number }>();
      const fail = (error: SampleError) => {
        if (ctx.onSampleError) ctx.onSampleError(error);
        else subscriber.error(error);
      };
      // Announces to a `tile` upstream, however it is subscribed, that its tiles come back here.
      const subscription = stitchDownstream.run(true, () => source.subscribe({
        next(sample) {
          const info = sample.tile;
          if (!info) return subscriber.next(sample);
          const parentId = info.parent.id;
          try {
            let group = open.get(parentId);
            if (!group) {
              const field = p.field ?? (sample.probabilities ? 'probabilities' : 'image');
              const first = sample[field];
              if (!first) throw new Error(`tile ${sample.id} has no '${field}' to stitch`);
              group = { stitcher: createStitcher(info.grid, first.channels, first.dtype), field, parent: info.parent, count: info.grid.count };
              open.set(parentId, group);
            }
            const data = sample[group.field];
            if (!data) throw new Error(`tile ${sample.id} has no '${group.field}' to stitch`);
            const complete = group.stitcher.add(info.index, data);
            info.budget?.release(info.index);
            if (complete) {
              open.delete(parentId);
              subscriber.next(finish(group.parent, group.field, group.stitcher));
            }
          } catch (error) {
            info.budget?.release(info.index);
            open.delete(parentId);
            fail(SampleError.wrap({ step, file: sample.source.path, sample: parentId }, error));
          }
        },
        error: (e) => subscriber.error(e),
        complete() {
          for (const [id, group] of open) {
            fail(
              new SampleError(
                { step, file: group.parent.source.path, sample: id },
                `only ${group.stitcher.received} of ${group.count} tiles arrived (a tile failed upstream)`,
              ),
            );
          }
          open.clear();
          subscriber.complete();
        },
      }));
      return () => {
        subscription.unsubscribe();
        open.clear(); // drop partial images promptly
      };
    });
}

function finish(parent: Sample, field: ImageField, stitcher: Stitcher): Sample {
  // A parent that `mirror` only recorded mirroring for is at its original size already: nothing to copy.
  const { padding, mirroring: _mirroring, tile: _tile, ...rest } = parent;
  const restored = padding ? mapPaddedFields(parent, (image) => unpad(image, padding)) : {};
  return { ...rest, ...restored, [field]: stitcher.result() } as Sample;
}
