import * as t from 'io-ts';
import { Observable, defer } from 'rxjs';
import { PositiveInt, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { cropMirrored, type Margins, type MirrorMode } from '../src/kernels/mirror.js';
import type { TileGrid } from '../src/kernels/tiling.js';
import { planGrid, type TilePlan } from '../src/model/network/tile-size.js';
import { mapPaddedFields, type Sample } from '../src/sample.js';
import { TileBudget, stitchDownstream } from '../src/tile-budget.js';
import { geometryProps, requirePlan } from './geometry.js';
import { decodeParams, flatPerSample, type SampleOperator, type StepContext } from './step.js';

export const TileParams = closedObject(
  'tile parameters',
  {},
  {
    ...geometryProps,
    /** Mirroring used when the image arrives unmirrored. @default 'reflect' */
    mode: oneOf(['reflect', 'symmetric']),
    /**
     * Tiles of one image in flight at once (cut, not yet placed by a `stitch`
     * downstream); at least the `unet` step's batchSize. @default 16
     */
    inFlight: PositiveInt,
  },
);
export type TileParams = t.TypeOf<typeof TileParams>;

/** With no tile back for this long (and 4x the slowest round trip so far), and none being computed, held-back tiles are let go. */
const STALL_MS = 60_000;

/**
 * Cuts each image into the overlap-tiles of a network geometry: a fixed one, or with
 * `size: auto` (the default with a model) the tile size whose tiling of this image
 * costs the network the fewest FLOPs within the backend's memory budget
 * (src/model/network/tile-size.ts): one 700 px tile for a 512 px image rather than four of
 * 572. A valid network's probabilities do not depend on the tiling. Every tile is a
 * Sample of its own (id `<parent>#<index>`) carrying its grid position and its
 * parent, so `stitch` can regroup tiles of many images in any order. A label and
 * weights are cut with the image, so tiles of training samples can go to `train`.
 *
 * Tiles are cut from the original image through mirrored indices (the mirroring that
 * `mirror` recorded, or `mode` for an unmirrored image), one at a time. With a `stitch`
 * downstream, at most `inFlight` tiles of an image are out at once: the next is cut
 * when `stitch` has placed one (or a step has dropped one), so the network's float
 * inputs and outputs are held for a few tiles, whatever the image size. Should no
 * tile come back for a minute (a step between holds or loses tiles without saying
 * so), the image's remaining tiles are let go with a warning rather than wait forever.
 *
 * @example
 * samples$.pipe(mirror({ input: 572, output: 388 }), tile({ input: 572, output: 388 }), unet(...), stitch())
 * @see mirror
 * @see stitch
 */
export function tile(params: TileParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('tile', TileParams, params);
  const g = requirePlan('tile', p, ctx.baseDir, ctx.backend, ctx.models);
  const inFlight = p.inFlight ?? 16;
  let slowestMs = 0; // the longest round trip tile -> stitch seen by this step
  const watch: Watch = {
    stallMs: () => Math.max(STALL_MS, 4 * slowestMs),
    seen: (budget) => void (slowestMs = Math.max(slowestMs, budget.slowestMs)),
    stalled: (sample, ms) =>
      ctx.emit?.({
        type: 'log',
        level: 'warn',
        message:
          `${ctx.step ?? 'tile'}: ${sample.source.path}: no tile came back to stitch for ${Math.round(ms / 1000)} s, so its remaining tiles ` +
          `are no longer held back and its memory is not bounded. Harmless if the network is that slow; otherwise a step between ` +
          `tile and stitch holds more than inFlight = ${inFlight} tiles (a larger unet batchSize?) or drops tiles without reporting them.`,
      }),
  };
  const cut = (sample: Sample, bounded: boolean) => {
    const { grid, offset, mode } = layout(sample, g, p.mode ?? 'reflect');
    const budget = bounded ? new TileBudget(inFlight, grid.count) : undefined;
    // A training sample's label and weights are cut with its image, at the input tile's size.
    const fields = (rect: Rect) => mapPaddedFields(sample, (image) => cropMirrored(image, { ...rect, y: rect.y + offset.y, x: rect.x + offset.x }, mode));
    return tiles(sample, grid, fields, budget, watch);
  };
  // Held back by a budget only where a stitch downstream gives permits back (see stitchDownstream).
  return (source) => defer(() => source.pipe(flatPerSample('tile', ctx, (sample: Sample) => cut(sample, stitchDownstream.getStore() === true))));
}

/** How tiles of `sample` are cut: its grid, the offset from mirrored to stored coordinates, and the mirroring mode. */
function layout(sample: Sample, g: TilePlan, defaultMode: MirrorMode) {
  const { padding, mirroring } = sample;
  if (padding) {
    // Already extended by other code: tiles are plain crops of the stored image.
    const grid = planGrid(sample.image.height - padding.top - padding.bottom, sample.image.width - padding.left - padding.right, g);
    checkMargins(padding, grid.padding);
    return { grid, offset: { y: 0, x: 0 }, mode: defaultMode };
  }
  const grid = planGrid(sample.image.height, sample.image.width, g);
  if (mirroring) checkMargins(mirroring.margins, grid.padding);
  return { grid, offset: { y: -grid.padding.top, x: -grid.padding.left }, mode: mirroring?.mode ?? defaultMode };
}

type Rect = { y: number; x: number; width: number; height: number };

interface Watch {
  /** How long to wait for a permit before letting the image's tiles go. */
  stallMs(): number;
  /** Called whenever a permit comes back. */
  seen(budget: TileBudget): void;
  stalled(sample: Sample, ms: number): void;
}

/** The tiles of one image, row-major, each cut only as it is emitted: with a budget, once a permit is free. */
function tiles(parent: Sample, grid: TileGrid, fields: (rect: Rect) => Partial<Sample>, budget: TileBudget | undefined, watch: Watch): Observable<Sample> {
  return new Observable<Sample>((subscriber) => {
    let next = 0;
    let pumping = false;
    let stall: NodeJS.Timeout | undefined;
    // Re-entered when stitch gives a permit back while this loop emits: the running loop takes it.
    const pump = () => {
      if (pumping || subscriber.closed) return;
      pumping = true;
      try {
        while (next < grid.count && !subscriber.closed && (!budget || budget.take(next))) {
          const index = next++;
          const row = Math.floor(index / grid.cols.length);
          const col = index % grid.cols.length;
          const cut = fields({ y: grid.rows[row], x: grid.cols[col], width: grid.inputSize, height: grid.inputSize });
          const tile = { index, row, col, grid, parent, ...(budget ? { budget } : {}) };
          subscriber.next({ id: `${parent.id}#${index}`, source: parent.source, image: cut.image!, ...cut, tile });
        }
      } catch (error) {
        subscriber.error(error);
      } finally {
        pumping = false;
      }
      clearTimeout(stall);
      if (subscriber.closed) return;
      if (next === grid.count) return subscriber.complete();
      const ms = watch.stallMs();
      const check = () => {
        // The network is computing some of this image's tiles: slow, not stalled.
        if (budget!.busy) return void (stall = setTimeout(check, ms));
        watch.stalled(parent, ms);
        budget!.lift();
      };
      stall = setTimeout(check, ms);
    };
    budget?.onRelease(() => {
      watch.seen(budget);
      pump();
    });
    pump();
    return () => {
      clearTimeout(stall);
      // Unsubscribed before every tile was out: nothing waits for the rest any more.
      if (next < grid.count) budget?.close();
    };
  });
}

function checkMargins(have: Margins, need: Margins): void {
  if (have.top === need.top && have.bottom === need.bottom && have.left === need.left && have.right === need.right) return;
  throw new Error(`the image was mirrored by ${showMargins(have)} but this geometry needs ${showMargins(need)}: give mirror the same geometry as tile`);
}

function showMargins(m: Margins): string {
  return `top ${m.top}, bottom ${m.bottom}, left ${m.left}, right ${m.right}`;
}
