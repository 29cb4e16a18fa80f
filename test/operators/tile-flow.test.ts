import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bufferCount, concatMap, defer, from, lastValueFrom, map, mergeMap, of, tap, toArray, type Subscription } from 'rxjs';
import { mirror } from '../../operators/mirror.js';
import { tile } from '../../operators/tile.js';
import { stitch } from '../../operators/stitch.js';
import { threshold } from '../../operators/threshold.js';
import { perSample, type SampleOperator } from '../../operators/step.js';
import type { RunEvent } from '../../src/events.js';
import { toFloat32 } from '../../src/image/convert.js';
import { makeImage } from '../../src/image/image.js';
import { crop } from '../../src/kernels/mirror.js';
import type { SampleError } from '../../src/errors.js';
import type { Sample } from '../../src/sample.js';
import { whileWorkingOn, type TileBudget } from '../../src/tile-budget.js';
import { pixels, randomImage } from '../helpers/images.js';

const g = { input: 20, output: 12 };
const sample = (id: string, w: number, h: number, seed = 1): Sample => ({ id, source: { path: `${id}.png` }, image: randomImage(w, h, 1, 'uint16', seed) });
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A stand-in for unet: it takes every tile as it comes (RxJS has no backpressure) and
 * answers `batch` at a time, on a later turn of the event loop and in reverse order.
 */
const network =
  (batch: number): SampleOperator =>
  (source) =>
    source.pipe(
      bufferCount(batch),
      concatMap(async (tiles) => {
        await tick();
        return tiles.reverse();
      }),
      mergeMap((tiles) => from(tiles)),
    );

/** Counts, independently of the budget, the tiles between tile and stitch; and collects the budgets seen. */
function census() {
  const c = { alive: 0, most: 0, emitted: 0, budgets: new Set<TileBudget>() };
  const cut = tap((t: Sample) => {
    c.emitted++;
    c.most = Math.max(c.most, ++c.alive);
    if (t.tile?.budget) c.budgets.add(t.tile.budget);
  });
  const arrived = tap((_: Sample) => c.alive--);
  return { c, cut, arrived };
}

test('with a stitch downstream, no more than inFlight tiles of an image are out at once, and the image comes back exact', async () => {
  const input = sample('a', 70, 50); // 6 x 5 = 30 tiles
  const { c, cut, arrived } = census();
  const out = await lastValueFrom(from([input]).pipe(mirror(g), tile({ ...g, inFlight: 4 }), cut, network(2), arrived, stitch()));
  assert.deepEqual(pixels(out.image), pixels(input.image));
  assert.equal(c.emitted, 30);
  assert.equal(c.most, 4);
  const [budget] = c.budgets;
  assert.equal(c.budgets.size, 1);
  assert.equal(budget.peak, 4);
  assert.equal(budget.inFlight, 0);
});

test('a tile subscribed late, by a step that first awaits something (as unet loads its model), is still held back', async () => {
  const input = sample('a', 70, 50);
  const { c, cut, arrived } = census();
  const loading: SampleOperator = (source) => defer(() => new Promise<void>((resolve) => setTimeout(resolve, 5))).pipe(mergeMap(() => source));
  const out = await lastValueFrom(from([input]).pipe(mirror(g), tile({ ...g, inFlight: 3 }), cut, loading, network(3), arrived, stitch()));
  assert.deepEqual(pixels(out.image), pixels(input.image));
  assert.equal(c.budgets.size, 1);
  assert.equal(c.most, 3);
});

test('tiles of images cut at once interleave, each image within its own budget, and each stitches back exactly', async () => {
  const inputs = [sample('a', 50, 40, 3), sample('b', 33, 61, 4), sample('c', 12, 12, 5)];
  const { c, cut, arrived } = census();
  const order: string[] = [];
  const out = await lastValueFrom(
    from(inputs).pipe(
      mergeMap((s) => of(s).pipe(mirror(g), tile({ ...g, inFlight: 3 })), 3),
      cut,
      network(3),
      tap((t) => order.push(t.tile!.parent.id)),
      arrived,
      stitch(),
      toArray(),
    ),
  );
  for (const input of inputs) assert.deepEqual(pixels(out.find((s) => s.id === input.id)!.image), pixels(input.image));
  assert.ok(order.join('').match(/ab|ba/), `tiles of a and b arrive interleaved: ${order.join('')}`);
  assert.equal(c.budgets.size, 3);
  for (const budget of c.budgets) assert.ok(budget.peak <= 3, `an image had ${budget.peak} tiles out`);
});

test('stitch(tile(mirror(x))) = x exactly with the budget at work, valid and same-padded geometries', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 60 }),
      fc.oneof(
        fc.record({ input: fc.constant(20), output: fc.constant(12) }),
        fc.record({ size: fc.integer({ min: 4, max: 16 }), overlap: fc.integer({ min: 0, max: 3 }), window: fc.constantFrom('uniform' as const, 'gaussian' as const) }),
      ),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer(),
      async (width, height, geometry, inFlight, batch, seed) => {
        const input = sample('p', width, height, seed);
        const { c, cut, arrived } = census();
        const out = await lastValueFrom(from([input]).pipe(mirror(geometry), tile({ ...geometry, inFlight }), cut, network(Math.min(batch, inFlight)), arrived, stitch()));
        assert.deepEqual(pixels(out.image), pixels(input.image));
        assert.ok(c.most <= inFlight);
      },
    ),
    { numRuns: 60 },
  );
});

test('unsubscribing early stops the cutting and lets go of the budget and its timer', async () => {
  const { c, cut } = census();
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const held: Sample[] = [];
  const never: SampleOperator = (source) => source.pipe(mergeMap((t) => (held.push(t), [])));
  const subscription: Subscription = from([sample('a', 70, 50)]).pipe(mirror(g), tile({ ...g, inFlight: 5 }), cut, never, stitch()).subscribe();
  await tick();
  assert.equal(c.emitted, 5); // waiting for permits that never come back
  assert.equal(timers(), before + 1); // the stall watch
  subscription.unsubscribe();
  const [budget] = c.budgets;
  assert.equal(budget.inFlight, 0);
  assert.equal(timers(), before);
  budget.release(held[0].tile!.index); // a late permit cuts nothing more
  await tick();
  assert.equal(c.emitted, 5);
});

test('a tile that a step drops as failed gives its permit back, so the image fails at once instead of waiting', { timeout: 20_000 }, async () => {
  const failures: SampleError[] = [];
  const events: RunEvent[] = [];
  const failing = perSample<Sample, Sample>('net', { onSampleError: (e) => failures.push(e) }, (t) => {
    if (t.tile!.index % 3 === 0) throw new Error('out of memory');
    return t;
  });
  const out = await lastValueFrom(
    from([sample('a', 70, 50)]).pipe(mirror(g), tile({ ...g, inFlight: 2 }, { emit: (e) => events.push(e) }), failing, stitch({}, { onSampleError: (e) => failures.push(e) }), toArray()),
  );
  assert.equal(out.length, 0);
  assert.equal(failures.filter((f) => f.step === 'net').length, 10);
  assert.match(failures.at(-1)!.message, /stitch: a\.png: only 20 of 30 tiles arrived/);
  assert.deepEqual(events, []); // no stall
});

test('a step that holds more tiles than inFlight does not hang the image: after the stall limit its tiles are let go, with a warning', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const input = sample('a', 70, 50);
  const events: RunEvent[] = [];
  const done = lastValueFrom(from([input]).pipe(mirror(g), tile({ ...g, inFlight: 2 }, { emit: (e) => events.push(e) }), network(5), stitch()));
  for (let i = 0; i < 5; i++) await tick();
  assert.deepEqual(events, []);
  mock.timers.tick(60_000);
  const out = await done;
  assert.deepEqual(pixels(out.image), pixels(input.image));
  assert.equal(events.length, 1);
  assert.match((events[0] as { message: string }).message, /a\.png: no tile came back to stitch for 60 s.*inFlight = 2/);
});

test('a network slower than the stall limit is not taken for a stall while it computes the tiles', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const input = sample('a', 70, 50); // 30 tiles, 2 at a time, 90 s each
  const events: RunEvent[] = [];
  const slow: SampleOperator = (source) =>
    source.pipe(
      bufferCount(2),
      concatMap((batch) => whileWorkingOn(batch, () => new Promise<Sample[]>((resolve) => setTimeout(() => resolve(batch), 90_000)))),
      mergeMap((batch) => from(batch)),
    );
  let finished = false;
  const done = lastValueFrom(from([input]).pipe(mirror(g), tile({ ...g, inFlight: 2 }, { emit: (e) => events.push(e) }), slow, stitch())).then((out) => ((finished = true), out));
  for (let i = 0; i < 200 && !finished; i++) {
    for (let k = 0; k < 3; k++) await tick();
    mock.timers.tick(30_000);
  }
  const out = await done;
  assert.deepEqual(pixels(out.image), pixels(input.image));
  assert.deepEqual(events, [], 'no stall warning');
});

test('without a stitch downstream, tile cuts every tile with no budget (tiles collected, saved or trained on)', async () => {
  const tiles = await lastValueFrom(from([sample('a', 70, 50)]).pipe(mirror(g), tile({ ...g, inFlight: 1 }), toArray()));
  assert.equal(tiles.length, 30);
  assert.ok(tiles.every((t) => t.tile!.budget === undefined));
  const back = await lastValueFrom(from(tiles).pipe(stitch()));
  assert.equal(back.image.width, 70);
});

test('mirror records the mirroring and copies nothing; stitch hands on the very image that came in', async () => {
  const input = sample('a', 30, 17);
  const mirrored = await lastValueFrom(from([input]).pipe(mirror(g)));
  assert.equal(mirrored.image, input.image);
  assert.deepEqual(mirrored.mirroring, { margins: { top: 4, bottom: 4, left: 4, right: 4 }, mode: 'reflect' });
  // A network that answers each tile's centre as probabilities.
  const centre = map((t: Sample): Sample => ({ ...t, probabilities: toFloat32(crop(t.image, { x: 4, y: 4, width: 12, height: 12 })) }));
  const out = await lastValueFrom(from([mirrored]).pipe(tile(g), centre, stitch()));
  assert.equal(out.image, input.image);
  assert.equal(out.mirroring, undefined);
  assert.deepEqual(pixels(out.probabilities!), pixels(input.image));
  await assert.rejects(lastValueFrom(from([mirrored]).pipe(mirror(g))), /already mirrored/);
});

test("thresholding a valid network's tiles before stitch gives the mask of thresholding after it, with no whole probability map", async () => {
  const input = sample('a', 47, 29, 6);
  // A network whose p(class 1) is the tile centre scaled to [0, 1], and p(class 0) its complement.
  const centre = map((t: Sample): Sample => {
    const c = toFloat32(crop(t.image, { x: 4, y: 4, width: 12, height: 12 }), { method: 'dtype' }).data;
    const p = new Float32Array(c.length * 2).map((_, i) => (i % 2 ? c[i >> 1] : 1 - c[i >> 1]));
    return { ...t, probabilities: makeImage(12, 12, 2, 'float32', p) };
  });
  const tiled = () => from([input]).pipe(mirror(g), tile(g), centre);
  const after = await lastValueFrom(tiled().pipe(stitch(), threshold({ class: 1, at: 0.5 })));
  const before = await lastValueFrom(tiled().pipe(threshold({ class: 1, at: 0.5 }), stitch({ field: 'mask' })));
  assert.deepEqual(pixels(before.mask!), pixels(after.mask!));
  assert.deepEqual(pixels(before.mask!), pixels(input.image).map((v) => (v / 65535 >= 0.5 ? 1 : 0)));
  assert.equal(before.probabilities, undefined);
  const same = { size: 8, overlap: 2 };
  const sameTiles = from([input]).pipe(mirror(same), tile(same), map((t: Sample): Sample => ({ ...t, probabilities: toFloat32(t.image) })));
  await assert.rejects(lastValueFrom(sameTiles.pipe(threshold({}))), /same-padded network are blended by stitch: threshold after stitch/);
});
