import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { mirror } from '../../operators/mirror.js';
import { tile } from '../../operators/tile.js';
import { stitch } from '../../operators/stitch.js';
import { ConfigError, SampleError } from '../../src/errors.js';
import type { Sample } from '../../src/sample.js';
import { makeImage } from '../../src/image/image.js';
import { pixels, randomImage } from '../helpers/images.js';

const g = { input: 20, output: 12 };
const sample = (id: string, w: number, h: number, seed = 1): Sample => ({
  id,
  source: { path: `${id}.png` },
  image: randomImage(w, h, 1, 'uint16', seed),
});

test('mirror -> tile -> stitch gives back each image exactly, padding removed', async () => {
  const inputs = [sample('a', 30, 17), sample('b', 5, 40, 2)];
  const out = await lastValueFrom(from(inputs).pipe(mirror(g), tile(g), stitch(), toArray()));
  assert.deepEqual(out.map((s) => s.id), ['a', 'b']);
  for (const [i, s] of out.entries()) {
    assert.deepEqual(pixels(s.image), pixels(inputs[i].image));
    assert.equal(s.padding, undefined);
    assert.equal(s.tile, undefined);
  }
});

test('tile mirrors by itself when the image arrives unmirrored', async () => {
  const input = sample('a', 25, 25);
  const out = await lastValueFrom(from([input]).pipe(tile({ size: 8, overlap: 3, window: 'gaussian' }), stitch()));
  assert.deepEqual(pixels(out.image), pixels(input.image));
});

test('stitch regroups tiles of several images arriving interleaved and in reverse', async () => {
  const a = sample('a', 40, 30, 3);
  const b = sample('b', 33, 21, 4);
  const [ta, tb] = [await tilesOf(a), await tilesOf(b)];
  const interleaved: Sample[] = [];
  for (let i = 0; i < Math.max(ta.length, tb.length); i++) {
    if (tb[tb.length - 1 - i]) interleaved.push(tb[tb.length - 1 - i]);
    if (ta[i]) interleaved.push(ta[i]);
  }
  const out = await lastValueFrom(from(interleaved).pipe(stitch(), toArray()));
  assert.deepEqual(out.map((s) => s.id).sort(), ['a', 'b']);
  assert.deepEqual(pixels(out.find((s) => s.id === 'a')!.image), pixels(a.image));
  assert.deepEqual(pixels(out.find((s) => s.id === 'b')!.image), pixels(b.image));
});

test('stitch completes an image as soon as its last tile arrives (marbles)', async () => {
  const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
  const tiles = await tilesOf(sample('a', 12, 24)); // two tiles: one column, two rows
  assert.equal(tiles.length, 2);
  scheduler.run(({ cold, expectObservable }) => {
    const source = cold('-x--y---|', { x: tiles[0], y: tiles[1] });
    const ids = source.pipe(stitch(), map((s) => s.id));
    expectObservable(ids).toBe('----a---|', { a: 'a' });
  });
});

test('stitch passes errors through and drops partial images on unsubscribe', async () => {
  const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
  const tiles = await tilesOf(sample('a', 12, 24));
  scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
    const source = cold('-x--#', { x: tiles[0] }, new Error('upstream'));
    expectObservable(source.pipe(stitch(), map((s) => s.id))).toBe('----#', undefined, new Error('upstream'));
    const endless = cold('-x------', { x: tiles[0] });
    expectObservable(endless.pipe(stitch(), map((s) => s.id)), '^--!').toBe('----');
    expectSubscriptions(endless.subscriptions).toBe('^--!');
  });
});

test('an image missing tiles at completion is reported, not silently dropped', async () => {
  const tiles = await tilesOf(sample('a', 12, 24));
  const failures: SampleError[] = [];
  const out = await lastValueFrom(from([tiles[1]]).pipe(stitch({}, { onSampleError: (e) => failures.push(e) }), toArray()));
  assert.equal(out.length, 0);
  assert.match(failures[0].message, /stitch: a\.png: only 1 of 2 tiles arrived/);
});

test('network output at output size is stitched into the named field, the image is restored', async () => {
  const input = sample('a', 30, 17);
  const fakeNetwork = map((t: Sample): Sample => {
    // A "network" that outputs the centre crop as float32 probabilities.
    const m = (g.input - g.output) / 2;
    const p = new Float32Array(g.output * g.output);
    for (let y = 0; y < g.output; y++) for (let x = 0; x < g.output; x++) p[y * g.output + x] = t.image.data[(y + m) * g.input + x + m];
    return { ...t, probabilities: makeImage(g.output, g.output, 1, 'float32', p) };
  });
  const out = await lastValueFrom(from([input]).pipe(mirror(g), tile(g), fakeNetwork, stitch()));
  assert.deepEqual(pixels(out.probabilities!), pixels(input.image));
  assert.deepEqual(pixels(out.image), pixels(input.image));
});

test('a tile geometry that disagrees with the mirror margins is an error per sample', async () => {
  await assert.rejects(
    lastValueFrom(from([sample('a', 30, 30)]).pipe(mirror({ margin: 3 }), tile(g))),
    /mirrored by top 3, bottom 3, left 3, right 3 but this geometry needs top 4/,
  );
});

test('operator parameters are checked when the pipeline is built', () => {
  assert.throws(() => mirror({}), ConfigError);
  assert.throws(() => mirror({ margin: 3, input: 20, output: 12 }), /exactly one of margin, margins, or a tile geometry/);
  assert.throws(() => tile({ input: 20 }), /needs both input and output/);
  assert.throws(() => tile({ input: 21, output: 12 }), /must be even/);
  assert.throws(() => tile({ input: 20, output: 12, size: 8 }), /not both/);
  assert.throws(() => stitch({ field: 'probs' as never }), /field: expected 'image' \| 'label'/);
});

function tilesOf(s: Sample): Promise<Sample[]> {
  return lastValueFrom(from([s]).pipe(mirror(g), tile(g), toArray()));
}

test('mirror and tile can take their geometry from a model directory: a fixed input size, or chosen per image by default', async () => {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-model-'));
  // A depth-2 valid network maps 60 px tiles to 20 px (and 92 px to 52 px).
  await writeFile(join(dir, 'metadata.json'), JSON.stringify({ architecture: { depth: 2, padding: 'valid', baseFilters: 4 }, tile: { input: 60 } }));
  const input = sample('m', 50, 33);
  const fixed = { model: dir, input: 60 };
  const out = await lastValueFrom(from([input]).pipe(mirror(fixed), tile(fixed), toArray()));
  assert.equal(out[0].tile!.grid.inputSize, 60);
  assert.equal(out[0].tile!.grid.outputSize, 20);
  const back = await lastValueFrom(from(out).pipe(stitch()));
  assert.deepEqual(pixels(back.image), pixels(input.image));
  // Automatic: one tile whose 52 px output covers the 50 x 33 image (6 tiles of 60 px cost 2.7x the FLOPs).
  for (const auto of [{ model: dir }, { model: dir, size: 'auto' as const }]) {
    const tiles = await lastValueFrom(from([input]).pipe(mirror(auto), tile(auto), toArray()));
    assert.deepEqual([tiles.length, tiles[0].tile!.grid.inputSize, tiles[0].tile!.grid.outputSize], [1, 92, 52]);
    assert.deepEqual(pixels((await lastValueFrom(from(tiles).pipe(stitch()))).image), pixels(input.image));
  }
  await assert.rejects(lastValueFrom(from([input]).pipe(mirror({ model: dir }), tile(fixed))), /this geometry needs/);
  assert.throws(() => tile({ size: 'auto' }), /size: auto needs the model/);
  assert.throws(() => tile({ model: dir, size: 'auto', input: 60 }), /not both/);
  assert.throws(() => tile({ model: dir, input: 61 }), /nearest valid/);
  assert.throws(() => mirror({ model: join(dir, 'nope') }), /cannot read the model's geometry from .*nope\/metadata\.json: file not found/);
});

test('a label and weights travel with the image through mirror and tile, and come back unpadded', async () => {
  const input: Sample = {
    ...sample('t', 30, 17),
    label: randomImage(30, 17, 1, 'uint8', 8),
    weights: randomImage(30, 17, 1, 'float32', 9),
  };
  const tiles = await lastValueFrom(from([input]).pipe(mirror(g), tile(g), toArray()));
  for (const t of tiles) {
    assert.deepEqual([t.label!.width, t.weights!.width], [20, 20]);
    // The tile's label is the mirrored label at the same place as its image.
    const m = (g.input - g.output) / 2;
    const [y, x] = [t.tile!.grid.rows[t.tile!.row], t.tile!.grid.cols[t.tile!.col]];
    assert.equal(t.label!.data[m * 20 + m], input.label!.data[y * 30 + x]);
  }
  const back = await lastValueFrom(from(tiles).pipe(stitch()));
  assert.deepEqual(pixels(back.label!), pixels(input.label!));
  assert.deepEqual(pixels(back.weights!), pixels(input.weights!));
  await assert.rejects(
    lastValueFrom(from([{ ...input, label: randomImage(29, 17, 1, 'uint8') }]).pipe(mirror(g))),
    /the label is 29x17 but the image is 30x17/,
  );
});

test('tile and stitch with a gaussian window blend each tile\'s network output by the window at its position', async () => {
  // A same-padded "network" that answers a constant per tile: 10, 20, 30, 40 in grid order.
  // 12x12 image, tiles of 8 overlapping by 4: rows and columns start at 0 and 4.
  const constantNetwork = map((t: Sample): Sample => ({ ...t, probabilities: makeImage(8, 8, 1, 'float32', new Float32Array(64).fill(10 * (t.tile!.index + 1))) }));
  const out = await lastValueFrom(from([sample('g', 12, 12)]).pipe(tile({ size: 8, overlap: 4, window: 'gaussian' }), constantNetwork, stitch()));
  // Hand-weighted mean: window exp(-(i - 3.5)² / 2σ²), σ = 8 / 8, in y and x.
  const g = (i: number) => (i >= 0 && i < 8 ? Math.exp(-((i - 3.5) ** 2) / 2) : 0);
  const starts = [0, 4];
  for (let y = 0; y < 12; y++) {
    for (let x = 0; x < 12; x++) {
      let sum = 0;
      let weights = 0;
      starts.forEach((r, row) =>
        starts.forEach((c, col) => {
          const w = g(y - r) * g(x - c);
          sum += 10 * (row * 2 + col + 1) * w;
          weights += w;
        }),
      );
      const got = out.probabilities!.data[y * 12 + x];
      assert.ok(Math.abs(got - sum / weights) < 1e-5, `(${y}, ${x}): ${got} vs ${sum / weights}`);
    }
  }
});

test('a U-Net size given as input and output is tiled on its pooling grid, and stitch(tile(mirror(x))) = x for any image size', async () => {
  const unet = { input: 188 + 16 * 3, output: 4 + 16 * 3 }; // depth 4: 236 -> 52
  for (const [w, h] of [[1, 1], [52, 53], [130, 47], [200, 201]]) {
    const input = sample(`u${w}`, w, h, w);
    const tiles = await lastValueFrom(from([input]).pipe(mirror(unet), tile(unet), toArray()));
    const grid = tiles[0].tile!.grid;
    assert.ok([...grid.rows, ...grid.cols].every((start) => start % 16 === 0), `${w}x${h}`);
    assert.deepEqual(pixels((await lastValueFrom(from(tiles).pipe(stitch()))).image), pixels(input.image), `${w}x${h}`);
  }
});
