import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray } from 'rxjs';
import { weightMap } from '../../operators/weight-map.js';
import { elastic } from '../../operators/elastic.js';
import { ConfigError, SampleError } from '../../src/errors.js';
import { weightMap as kernel } from '../../src/kernels/weight-map.js';
import { makeImage } from '../../src/image/image.js';
import type { Sample } from '../../src/sample.js';
import { pixels, randomImage } from '../helpers/images.js';

/** Two 4x4 cells one pixel apart in a 10x6 label. */
const cells = () => {
  const label = makeImage(10, 6, 1, 'uint8');
  for (let y = 1; y < 5; y++) for (const x of [0, 1, 2, 3, 5, 6, 7, 8]) label.data[y * 10 + x] = 255;
  return label;
};
const sample = (id: string, label = cells()): Sample => ({ id, source: { path: `${id}.png` }, image: randomImage(10, 6, 1, 'uint8'), label });
const run = (samples: Sample[], op: ReturnType<typeof weightMap>) => lastValueFrom(from(samples).pipe(op, toArray()));

test('adds float32 weights computed by the kernel with the given options, and keeps the label', async () => {
  const input = sample('a');
  const [out] = await run([input], weightMap({ w0: 5, sigma: 3, classWeights: 'none' }));
  assert.equal(out.label, input.label);
  assert.deepEqual(pixels(out.weights!), pixels(kernel(input.label!, { w0: 5, sigma: 3, classWeights: 'none' }).weights));
  // The one-pixel gap between the cells: d1 = d2 = 1, so w = 1 + 5 exp(-4 / 18).
  assert.ok(Math.abs(out.weights!.data[2 * 10 + 4] - (1 + 5 * Math.exp(-4 / 18))) < 1e-6);
});

test('instance labels and the gap option replace the label with the separated one', async () => {
  const ids = makeImage(10, 6, 1, 'uint16');
  for (let y = 1; y < 5; y++) for (let x = 0; x < 10; x++) ids.data[y * 10 + x] = x < 5 ? 1 : 2;
  const [out] = await run([{ ...sample('i'), label: ids }], weightMap({ input: 'instances', gap: true }));
  assert.equal(out.label!.data[1 * 10 + 4], 0, 'instance 1 gave up its column next to 2');
  assert.equal(out.label!.data[1 * 10 + 5], 2);
  assert.ok(out.weights!.data[1 * 10 + 4] > 5);
});

test('runs after elastic on the deformed label', async () => {
  const input = sample('e');
  const [out] = await lastValueFrom(from([input]).pipe(elastic({ sigma: 2 }, { seed: 3 }), weightMap(), toArray()));
  assert.deepEqual(pixels(out.weights!), pixels(kernel(out.label!).weights));
});

test('samples without a label, with a mismatched one, or with three levels fail one by one', async () => {
  const errors: SampleError[] = [];
  const noLabel: Sample = { id: 'n', source: { path: 'n.png' }, image: randomImage(10, 6, 1, 'uint8') };
  const small = sample('s', makeImage(4, 4, 1, 'uint8'));
  const three = sample('t', makeImage(10, 6, 1, 'uint8', Uint8Array.from({ length: 60 }, (_, i) => (i % 3) * 100)));
  const out = await run([noLabel, small, three, sample('ok')], weightMap({}, { onSampleError: (e) => errors.push(e) }));
  assert.deepEqual(out.map((s) => s.id), ['ok']);
  assert.match(errors[0].message, /^weight-map: n\.png: the sample has no label/);
  assert.match(errors[1].message, /the label is 4x4 but the image is 10x6/);
  assert.match(errors[2].message, /found 0, 100, 200/);
});

test('bad parameters fail when the operator is created', () => {
  assert.throws(() => weightMap({ sigma: 0 }), (e: Error) => e instanceof ConfigError && /sigma: expected a positive number, got 0/.test(e.message));
  assert.throws(() => weightMap({ connectivity: 6 } as never), /connectivity/);
  assert.throws(() => weightMap({ classWeights: 'balance' } as never), /classWeights/);
  assert.throws(() => weightMap({ classWeights: [1, -1] } as never), /classWeights/);
  assert.throws(() => weightMap({ wo: 10 } as never), /did you mean 'w0'/);
});
