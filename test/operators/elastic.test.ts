import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, mergeMap, of, toArray, delay } from 'rxjs';
import { elastic } from '../../operators/elastic.js';
import { ConfigError, SampleError } from '../../src/errors.js';
import { displacementField, warp } from '../../src/kernels/elastic.js';
import { makeImage } from '../../src/image/image.js';
import type { Sample } from '../../src/sample.js';
import { pixels, randomImage } from '../helpers/images.js';

const sample = (id: string, seed = 1, size = 24): Sample => {
  const image = randomImage(size, size, 1, 'uint8', seed);
  const label = makeImage(size, size, 1, 'uint8', Uint8Array.from(image.data, (v) => (v > 128 ? 255 : 0)));
  const weights = randomImage(size, size, 1, 'float32', seed + 100);
  return { id, source: { path: `${id}.png` }, image, label, weights };
};

const run = (samples: Sample[], op: ReturnType<typeof elastic>) => lastValueFrom(from(samples).pipe(op, toArray()));

test('an explicit displacement deforms image (cubic), label (nearest) and weights (linear) with the same field', async () => {
  const displacement = { dy: [[0, 3, 0], [-2, 5, 1], [0, 0, 4]], dx: [[1, 0, -3], [0, 2, 0], [6, 0, 0]] };
  const input = sample('a');
  const [out] = await run([input], elastic({ displacement }));
  const field = displacementField(displacement, 24, 24);
  assert.deepEqual(pixels(out.image), pixels(warp(input.image, field, 'cubic')));
  assert.deepEqual(pixels(out.label!), pixels(warp(input.label!, field, 'nearest')));
  assert.deepEqual(pixels(out.weights!), pixels(warp(input.weights!, field, 'linear')));
  assert.notDeepEqual(pixels(out.image), pixels(input.image));
  assert.equal(out.weights!.dtype, 'float32');
});

test('a zero displacement leaves image, label and weights as they were', async () => {
  const zero = [[0, 0], [0, 0]];
  const input = sample('z');
  const [out] = await run([input], elastic({ displacement: { dy: zero, dx: zero } }));
  assert.deepEqual(pixels(out.image), pixels(input.image));
  assert.deepEqual(pixels(out.label!), pixels(input.label!));
  for (let i = 0; i < out.weights!.data.length; i++) assert.ok(Math.abs(out.weights!.data[i] - input.weights!.data[i]) < 1e-4);
});

test('the deformed label holds only values of the original label', async () => {
  const [out] = await run([sample('l', 3)], elastic({ sigma: 15 }, { seed: 9 }));
  assert.ok(out.label!.data.every((v) => v === 0 || v === 255));
});

test('the same seed and id give the same deformation, whatever the order and concurrency', async () => {
  const inputs = [sample('a', 1), sample('b', 2), sample('c', 3), sample('d', 4)];
  const inOrder = await run(inputs, elastic({}, { seed: 42 }));
  // Reversed, and with samples finishing out of order through a concurrent mergeMap.
  const shuffled = await lastValueFrom(
    from([...inputs].reverse()).pipe(
      mergeMap((s, i) => of(s).pipe(delay(i % 2 ? 0 : 5), elastic({}, { seed: 42 })), 4),
      toArray(),
    ),
  );
  for (const s of inOrder) assert.deepEqual(pixels(shuffled.find((t) => t.id === s.id)!.image), pixels(s.image));
  const other = await run(inputs, elastic({}, { seed: 43 }));
  assert.notDeepEqual(pixels(other[0].image), pixels(inOrder[0].image));
  // The same image under two ids is deformed differently: the draw follows the id.
  const twins = await run([sample('x', 5), sample('y', 5)], elastic({}, { seed: 42 }));
  assert.notDeepEqual(pixels(twins[0].image), pixels(twins[1].image));
});

test('each epoch of a training run draws a new deformation, reproducibly', async () => {
  const at = (epoch: number) => ({ ...sample('e', 7), source: { path: 'e.png', epoch } });
  const [e0, e1, e1again] = await run([at(0), at(1), at(1)], elastic({}, { seed: 42 }));
  assert.notDeepEqual(pixels(e0.image), pixels(e1.image));
  assert.deepEqual(pixels(e1.image), pixels(e1again.image));
});

test('probability 0 passes samples through untouched, and probability 0.5 deforms about half of them', async () => {
  const inputs = Array.from({ length: 40 }, (_, i) => sample(`s${i}`, i + 1, 8));
  const none = await run(inputs, elastic({ probability: 0 }));
  none.forEach((s, i) => assert.equal(s, inputs[i]));
  const half = await run(inputs, elastic({ probability: 0.5 }, { seed: 1 }));
  const deformed = half.filter((s, i) => s !== inputs[i]).length;
  assert.ok(deformed > 10 && deformed < 30, `${deformed} of 40 deformed`);
});

test('bad parameters fail when the operator is created', () => {
  assert.throws(() => elastic({ sigma: -1 }), (e: Error) => e instanceof ConfigError && /sigma: expected a non-negative number, got -1/.test(e.message));
  assert.throws(() => elastic({ controlPoints: 1 }), /controlPoints: expected an integer >= 2/);
  assert.throws(() => elastic({ sigmma: 3 } as never), /did you mean 'sigma'/);
  assert.throws(() => elastic({ interpolation: 'nearest' } as never), /'cubic' \| 'linear'/);
  assert.throws(() => elastic({ displacement: { dy: [[0, 0], [0, 0]], dx: [[0, 0, 0], [0, 0, 0], [0, 0, 0]] } }), /dx has 3 rows/);
  assert.throws(() => elastic({ controlPoints: 4, displacement: { dy: [[0, 0], [0, 0]], dx: [[0, 0], [0, 0]] } }), /controlPoints is 4 but the displacement grid is 2 x 2/);
});

test('a label of another size than the image is a per-sample error naming the file', async () => {
  const bad: Sample = { ...sample('bad'), label: makeImage(5, 5, 1, 'uint8') };
  const errors: SampleError[] = [];
  const out = await run([bad, sample('ok')], elastic({}, { onSampleError: (e) => errors.push(e) }));
  assert.deepEqual(out.map((s) => s.id), ['ok']);
  assert.match(errors[0].message, /^elastic: bad\.png: the label is 5x5 but the image is 24x24/);
});
