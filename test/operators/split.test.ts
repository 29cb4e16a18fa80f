import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, from, toArray } from 'rxjs';
import { makeImage } from '../../src/image/image.js';
import { heldOutRegions, recomputedNormalisation } from '../../src/model/training/finetune-split.js';
import type { Sample } from '../../src/sample.js';
import { split } from '../../operators/split.js';

test('each side and fraction splits an image into two rectangles that tile it', () => {
  assert.deepEqual(heldOutRegions(10, 4, 'right', 0.3), { train: { x: 0, y: 0, width: 7, height: 4 }, heldOut: { x: 7, y: 0, width: 3, height: 4 } });
  assert.deepEqual(heldOutRegions(10, 4, 'left', 0.3), { train: { x: 3, y: 0, width: 7, height: 4 }, heldOut: { x: 0, y: 0, width: 3, height: 4 } });
  assert.deepEqual(heldOutRegions(4, 10, 'bottom', 0.5), { train: { x: 0, y: 0, width: 4, height: 5 }, heldOut: { x: 0, y: 5, width: 4, height: 5 } });
  assert.deepEqual(heldOutRegions(4, 10, 'top', 0.25), { train: { x: 0, y: 3, width: 4, height: 7 }, heldOut: { x: 0, y: 0, width: 4, height: 3 } });
  assert.throws(() => heldOutRegions(3, 3, 'right', 0.1), /at least 1/);
});

test('split passes on the training part of image, label and weights and records the held-out part of the file', async () => {
  // 6x2 image whose values are their column index, so the crop is visible in the values.
  const image = makeImage(6, 2, 1, 'uint8', Uint8Array.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]));
  const label = makeImage(6, 2, 1, 'uint8', Uint8Array.from([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]));
  const weights = makeImage(6, 2, 1, 'float32', Float32Array.from([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], (v) => v / 10));
  const sample: Sample = { id: 'a', source: { path: 'in/a.tif', labelPath: 'lab/a.tif' }, image, label, weights };
  const [out] = await firstValueFrom(from([sample]).pipe(split({ holdOut: 'left', fraction: 1 / 3 }), toArray()));
  assert.deepEqual([...out.image.data], [2, 3, 4, 5, 2, 3, 4, 5]);
  assert.deepEqual([...out.label!.data], [1, 1, 2, 2, 1, 1, 2, 2]);
  assert.deepEqual([...out.weights!.data].map((v) => Math.round(v * 10)), [2, 3, 4, 5, 2, 3, 4, 5]);
  assert.deepEqual(out.metadata?.heldOut, { path: 'in/a.tif', labelPath: 'lab/a.tif', region: { x: 0, y: 0, width: 2, height: 2 } });
  assert.throws(() => split({ holdOut: 'middle' } as never), /holdOut/);
  assert.throws(() => split({ holdOut: 'left', fraction: 1 }), /fraction/);
});

test('recomputed normalisation maps the 1st and 99.8th percentiles of all values to 0 and 1', () => {
  // 0..999 in two parts: numpy.percentile(range(1000), [1, 99.8]) = 9.99, 997.002.
  const values = Array.from({ length: 1000 }, (_, i) => i);
  const n = recomputedNormalisation([values.slice(0, 400), values.slice(400)]);
  assert.equal(n.method, 'range');
  assert.ok(Math.abs(n.min - 9.99) < 1e-9 && Math.abs(n.max - 997.002) < 1e-9, JSON.stringify(n));
  assert.deepEqual(recomputedNormalisation([[5, 5, 5]]), { method: 'range', min: 5, max: 6 }, 'a flat image keeps a defined mapping');
});
