import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeImage } from '../../src/image/image.js';
import { measureObjects, measurementsCsv } from '../../src/kernels/measure.js';

// A 4x3 instance image: object 1 is the 2x2 block at the top left, object 2 the single pixel at (2, 3).
const ids = makeImage(4, 3, 1, 'uint16', Uint16Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 2]));
const image = makeImage(4, 3, 1, 'uint8', new Uint8Array(12).fill(7));

test('without a pixel size the measurements are in pixels only', () => {
  const csv = measurementsCsv(measureObjects(ids, image));
  assert.equal(csv, 'id,area,centroid_y,centroid_x,min_y,min_x,max_y,max_x,mean_intensity\n1,4,0.500,0.500,0,0,1,1,7\n2,1,2,3,2,3,2,3,7\n');
});

test('with a pixel size, area in µm² and centroid in µm follow, named with their unit', () => {
  const csv = measurementsCsv(measureObjects(ids, image), { y: 0.1, x: 0.3 }).trim().split('\n');
  assert.equal(csv[0], 'id,area,centroid_y,centroid_x,min_y,min_x,max_y,max_x,mean_intensity,area_um2,centroid_y_um,centroid_x_um');
  // 4 px x 0.03 µm² = 0.12 µm²; centroid (0.5, 0.5) px = (0.05, 0.15) µm; (2, 3) px = (0.2, 0.9) µm.
  assert.equal(csv[1], '1,4,0.500,0.500,0,0,1,1,7,0.12,0.05,0.15');
  assert.equal(csv[2], '2,1,2,3,2,3,2,3,7,0.03,0.2,0.9');
});
