import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { threshold } from '../../operators/threshold.js';
import { instances } from '../../operators/instances.js';
import { save } from '../../operators/save.js';
import { makeImage } from '../../src/image/image.js';
import { readImage } from '../../src/io/read.js';
import { measureObjects } from '../../src/kernels/measure.js';
import { outlines, renderOverlay } from '../../src/kernels/overlay.js';
import type { Sample } from '../../src/sample.js';
import { tempDir } from '../helpers/files.js';
import { pixels } from '../helpers/images.js';

// A 6x4 image with two objects: a 2x2 square (top left) and a 1x3 bar (right).
const maskValues = [
  1, 1, 0, 0, 0, 1,
  1, 1, 0, 0, 0, 1,
  0, 0, 0, 0, 0, 1,
  0, 0, 0, 0, 0, 0,
];
const probabilities = () => {
  const p = new Float32Array(24 * 2);
  maskValues.forEach((m, i) => {
    p[2 * i + 1] = m ? 0.8 : 0.3;
    p[2 * i] = 1 - p[2 * i + 1];
  });
  return makeImage(6, 4, 2, 'float32', p);
};
const sample = (): Sample => ({
  id: 's',
  source: { path: '/in/s.png' },
  image: makeImage(6, 4, 1, 'uint8', Uint8Array.from({ length: 24 }, (_, i) => i * 10)),
  probabilities: probabilities(),
});

test('threshold makes a 0/1 mask from one class and argmax picks the likeliest class', async () => {
  const t1 = await lastValueFrom(from([sample()]).pipe(threshold({ class: 1, at: 0.5 })));
  assert.deepEqual(pixels(t1.mask!), maskValues);
  const t2 = await lastValueFrom(from([sample()]).pipe(threshold({ class: 1, at: 0.2 })));
  assert.ok(pixels(t2.mask!).every((v) => v === 1));
  const t3 = await lastValueFrom(from([sample()]).pipe(threshold({ mode: 'argmax' })));
  assert.deepEqual(pixels(t3.mask!), maskValues);
  await assert.rejects(lastValueFrom(from([sample()]).pipe(threshold({ class: 2 }))), /class 2 does not exist: the probabilities have 2 classes/);
});

test('instances labels connected regions in raster order, drops small ones and records how many it kept', async () => {
  const s = await lastValueFrom(from([sample()]).pipe(threshold({}), instances({})));
  assert.deepEqual(pixels(s.instances!), maskValues.map((m, i) => (m ? (i % 6 === 5 ? 2 : 1) : 0)));
  assert.equal(s.metadata?.objects, 2);
  const big = await lastValueFrom(from([sample()]).pipe(threshold({}), instances({ minArea: 4 })));
  assert.deepEqual(pixels(big.instances!).filter((v) => v === 2).length, 0);
  assert.deepEqual(pixels(big.instances!).filter((v) => v === 1).length, 4);
  assert.equal(big.metadata?.objects, 1);
});

test('measurements give area, centroid, bounding box and mean intensity per object', () => {
  const ids = makeImage(6, 4, 1, 'uint16', Uint16Array.from(maskValues.map((m, i) => (m ? (i % 6 === 5 ? 2 : 1) : 0))));
  const [a, b] = measureObjects(ids, sample().image);
  assert.deepEqual(a, { id: 1, area: 4, centroidY: 0.5, centroidX: 0.5, minY: 0, minX: 0, maxY: 1, maxX: 1, meanIntensity: (0 + 10 + 60 + 70) / 4 });
  assert.deepEqual(b, { id: 2, area: 3, centroidY: 1, centroidX: 5, minY: 0, minX: 5, maxY: 2, maxX: 5, meanIntensity: (50 + 110 + 170) / 3 });
});

test('outlines mark object pixels that touch another region, and the overlay colours them', () => {
  const block = makeImage(4, 4, 1, 'uint8', Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]));
  assert.deepEqual(Array.from(outlines(block)), [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  const solid = makeImage(3, 3, 1, 'uint8', new Uint8Array(9).fill(1));
  assert.deepEqual(Array.from(outlines(solid)), [0, 0, 0, 0, 0, 0, 0, 0, 0], 'no edge at the image border');
  const overlay = renderOverlay(makeImage(4, 4, 1, 'uint8', new Uint8Array(16).fill(9)), block);
  assert.deepEqual(Array.from(overlay.data.subarray(0, 3)), [9, 9, 9]);
  assert.deepEqual(Array.from(overlay.data.subarray(15, 18)), [255, 215, 0]);
});

test('save writes mask as 0/255, instances as 16-bit TIFF, overlay as RGB PNG and measurements as CSV', async () => {
  const dir = await tempDir();
  await lastValueFrom(from([sample()]).pipe(threshold({}), instances({}), save({ dir, outputs: ['mask', 'instances', 'overlay', 'measurements'] })));
  assert.deepEqual((await readdir(dir)).sort(), ['s.instances.tif', 's.mask.png', 's.measurements.csv', 's.overlay.png']);
  assert.deepEqual(pixels(await readImage(join(dir, 's.mask.png'))), maskValues.map((m) => m * 255));
  const ids = await readImage(join(dir, 's.instances.tif'));
  assert.equal(ids.dtype, 'uint16');
  assert.equal((await readImage(join(dir, 's.overlay.png'))).channels, 3);
  const csv = (await readFile(join(dir, 's.measurements.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'id,area,centroid_y,centroid_x,min_y,min_x,max_y,max_x,mean_intensity');
  assert.equal(csv[2], '2,3,1,5,0,5,2,5,110');
});

test('measurements without instances measure the connected regions of the mask', async () => {
  const dir = await tempDir();
  await lastValueFrom(from([sample()]).pipe(threshold({}), save({ dir, outputs: ['measurements'] })));
  assert.equal((await readFile(join(dir, 's.measurements.csv'), 'utf8')).trim().split('\n').length, 3);
});
