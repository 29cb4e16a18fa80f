import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, of, toArray } from 'rxjs';
import { mirror } from '../../operators/mirror.js';
import { makeImage } from '../../src/image/image.js';
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

test('an image that mirror has only recorded mirroring for is saved mirrored, and passes on unchanged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-save-'));
  const image = makeImage(3, 2, 1, 'uint8', Uint8Array.of(1, 2, 3, 4, 5, 6));
  const source = { path: '/in/m.png' };
  const [out] = await lastValueFrom(of({ id: 'm', source, image }).pipe(mirror({ margin: 1 }), save({ dir, outputs: ['image'] }), toArray()));
  // reflect: the edge pixel is not repeated.
  const saved = await readImage(join(dir, 'm.image.png'));
  assert.deepEqual([saved.width, saved.height], [5, 4]);
  assert.deepEqual(Array.from(saved.data), [5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2]);
  assert.equal(out.image, image);
  assert.ok(out.mirroring);
});
