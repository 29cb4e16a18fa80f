import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, from, toArray } from 'rxjs';
import { makeImage } from '../../src/image/image.js';
import type { SampleError } from '../../src/errors.js';
import type { RunEvent } from '../../src/events.js';
import type { Sample } from '../../src/sample.js';
import { randomTiles } from '../../operators/random-tiles.js';

/** A w x h sample whose pixel value encodes its position; label: a small square of foreground. */
function sample(id: string, w: number, h: number): Sample {
  const image = makeImage(w, h, 1, 'float32', Float32Array.from({ length: w * h }, (_, i) => i));
  const label = makeImage(w, h, 1, 'uint8', Uint8Array.from({ length: w * h }, (_, i) => (i % w >= w - 6 && Math.floor(i / w) >= h - 6 ? 1 : 0)));
  const weights = makeImage(w, h, 1, 'float32', Float32Array.from({ length: w * h }, (_, i) => 1 + i / 1000));
  return { id, source: { path: `${id}.tif` }, image, label, weights };
}

const run = (samples: Sample[], params: object, seed = 1, onSampleError?: (e: SampleError) => void) =>
  firstValueFrom(from(samples).pipe(randomTiles(params as never, { seed, onSampleError }), toArray()));

test('tiles have the input size, label and weights the output size, over the same window', async () => {
  const s = sample('a', 50, 40);
  const tiles = await run([s], { input: 44, output: 4, count: 5 });
  assert.deepEqual(tiles.map((t) => t.id), ['a#r0', 'a#r1', 'a#r2', 'a#r3', 'a#r4']);
  for (const t of tiles) {
    const { y, x } = t.metadata!.randomTile as { y: number; x: number };
    assert.deepEqual([t.image.width, t.image.height, t.label!.width, t.weights!.height], [44, 44, 4, 4]);
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        const source = (y + r) * 50 + x + c;
        assert.equal(t.image.data[(r + 20) * 44 + c + 20], source, 'the image centre is the window');
        assert.equal(t.label!.data[r * 4 + c], s.label!.data[source]);
        assert.equal(t.weights!.data[r * 4 + c], s.weights!.data[source]);
      }
    }
  }
});

test('the input window is mirrored past the border', async () => {
  // A 4 px image and a 4 px output: the only window is the whole image, with a 20 px mirrored margin.
  const [t] = await run([sample('m', 4, 4)], { input: 44, output: 4, mode: 'reflect' });
  assert.equal(t.image.data[19 * 44 + 20], 4, 'row -1 reflects row 1');
  assert.equal(t.image.data[20 * 44 + 19], 1, 'column -1 reflects column 1');
  const [u] = await run([sample('m', 4, 4)], { input: 44, output: 4, mode: 'symmetric' });
  assert.equal(u.image.data[19 * 44 + 20], 0, 'row -1 repeats row 0');
});

test('tiles depend on the seed and sample id only, not on arrival order', async () => {
  const a = sample('a', 60, 60);
  const b = sample('b', 60, 60);
  const corner = (t: Sample) => JSON.stringify(t.metadata!.randomTile);
  const one = await run([a, b], { input: 44, output: 4, count: 3 });
  const two = await run([b, a], { input: 44, output: 4, count: 3 });
  const byId = (ts: Sample[]) => Object.fromEntries(ts.map((t) => [t.id, corner(t)]));
  assert.deepEqual(byId(one), byId(two));
  assert.notDeepEqual(one.slice(0, 3).map(corner), one.slice(3).map(corner), 'samples draw differently');
  const other = await run([a], { input: 44, output: 4, count: 3 }, 2);
  assert.notDeepEqual(other.map(corner), one.filter((t) => t.id.startsWith('a#')).map(corner), 'seeds draw differently');
});

test('foreground bias centres tiles on labelled pixels', async () => {
  const tiles = await run([sample('f', 80, 80)], { input: 44, output: 4, count: 10, foreground: 1 });
  for (const t of tiles) {
    assert.equal((t.metadata!.randomTile as { foreground: boolean }).foreground, true);
    assert.ok(t.label!.data.some((v) => v > 0), 'the tile holds foreground');
  }
  const unbiased = await run([sample('f', 80, 80)], { input: 44, output: 4, count: 10 });
  assert.ok(unbiased.filter((t) => t.label!.data.some((v) => v > 0)).length < 5, 'without bias the small square is rarely hit');
});

test('an image smaller than the output is mirrored past the border, image, label and weights alike, with a note', async () => {
  const events: RunEvent[] = [];
  const s = sample('small', 3, 2);
  const tiles = await firstValueFrom(from([s]).pipe(randomTiles({ input: 44, output: 4, count: 6 }, { seed: 1, emit: (e) => events.push(e) }), toArray()));
  assert.equal(tiles.length, 6);
  for (const t of tiles) {
    const { y, x } = t.metadata!.randomTile as { y: number; x: number };
    assert.ok(y >= -2 && y <= 0 && x >= -1 && x <= 0, `the window covers the whole image: ${y}, ${x}`);
    assert.deepEqual([t.image.width, t.label!.width, t.weights!.height], [44, 4, 4]);
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        // reflect, bounced off the borders until inside: index -1 is 1, n is n - 2
        const reflect = (i: number, n: number) => {
          while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
          return i;
        };
        const source = reflect(y + r, 2) * 3 + reflect(x + c, 3);
        assert.equal(t.image.data[(r + 20) * 44 + c + 20], source);
        assert.equal(t.label!.data[r * 4 + c], s.label!.data[source]);
        assert.equal(t.weights!.data[r * 4 + c], s.weights!.data[source]);
      }
    }
  }
  const notes = events.filter((e) => e.type === 'log');
  assert.equal(notes.length, 1, 'one note per image');
  assert.match(JSON.stringify(notes[0]), /small\.tif: the image is 3x2, smaller than the network's 4 px output: its training tiles are mirrored past the border/);
});

test('bad parameters fail at creation', () => {
  assert.throws(() => randomTiles({ input: 44, output: 4, foreground: 2 } as never), /foreground/);
  assert.throws(() => randomTiles({ count: 2 } as never), /needs a geometry/);
  assert.throws(() => randomTiles({ input: 44, output: 4, cout: 2 } as never), /did you mean 'count'/);
});

test('a sample that mirror has marked is refused, as it mirrors by itself', async () => {
  const failures: SampleError[] = [];
  const mirrored: Sample = { ...sample('m', 30, 30), mirroring: { margins: { top: 20, bottom: 20, left: 20, right: 20 }, mode: 'reflect' } };
  assert.deepEqual(await run([mirrored], { input: 44, output: 4 }, 1, (e) => failures.push(e)), []);
  assert.match(failures[0].message, /random-tiles takes whole, unmirrored samples/);
});
