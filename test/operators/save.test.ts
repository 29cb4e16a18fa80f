import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { save } from '../../operators/save.js';
import { inspectImage, readImage } from '../../src/io/read.js';
import { outputPath } from '../../src/io/output-path.js';
import type { Sample } from '../../src/sample.js';
import { SampleError } from '../../src/errors.js';
import { pixels, randomImage } from '../helpers/images.js';

const base = (over: Partial<Sample> = {}): Sample => ({
  id: '25',
  source: { path: '/data/in/25.png' },
  image: randomImage(6, 5, 1, 'uint8'),
  ...over,
});

test('outputs are named <input>.<output>.<ext> and read back exactly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-save-'));
  const probabilities = randomImage(6, 5, 2, 'float32', 3);
  const mask = randomImage(6, 5, 1, 'uint8', 4);
  const out = await lastValueFrom(from([base({ probabilities, mask })]).pipe(save({ dir, outputs: ['image', 'mask', 'probabilities'] })));
  assert.deepEqual((await readdir(dir)).sort(), ['25.image.png', '25.mask.png', '25.probabilities.tif']);
  assert.deepEqual((out.metadata?.outputs as Record<string, string>).mask, join(dir, '25.mask.png'));
  // Probabilities: float32, one page per class.
  const path = join(dir, '25.probabilities.tif');
  assert.equal((await inspectImage(path)).pages, 2);
  const class1 = await readImage(path, 1);
  assert.deepEqual(pixels(class1), pixels(probabilities).filter((_, i) => i % 2 === 1));
});

test('pages of multi-page inputs get .p<page> before the output name', () => {
  const path = outputPath('/out', { path: '/in/stack.tif', page: 3, pages: 10 }, 'weights', 'tif');
  assert.equal(path, '/out/stack.p3.weights.tif');
});

test('subfolders below the scanned root are kept; nothing is written outside the output folder', () => {
  assert.equal(outputPath('/out', { path: '/watch/day1/a.png', root: '/watch' }, 'mask', 'png'), '/out/day1/a.mask.png');
  assert.equal(outputPath('/out', { path: '../../x.png', root: '/watch' }, 'mask', 'png'), '/out/x.mask.png');
  assert.equal(outputPath('/out', { path: '/etc/../../x.png' }, 'mask', 'png'), '/out/x.mask.png');
});

test('a missing field is a per-sample error naming the output and the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-save-'));
  const failures: SampleError[] = [];
  await lastValueFrom(from([base()]).pipe(save({ dir, outputs: ['mask'] }, { onSampleError: (e) => failures.push(e) }), toArray()));
  assert.match(failures[0].message, /^save: \/data\/in\/25\.png: cannot save 'mask': the sample has no mask/);
  assert.deepEqual(await readdir(dir), []);
});

test('bad save parameters are refused up front', () => {
  assert.throws(() => save({ dir: 'x', outputs: ['masks' as never] }), /outputs\[0\]: expected 'image' \| 'label'/);
  assert.throws(() => save({ dir: 'x', outputs: [] }), /outputs is empty/);
  assert.throws(() => save({ outputs: ['mask'] } as never), /dir: expected string, got nothing/);
});
