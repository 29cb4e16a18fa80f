/** The model that ships: it loads, has the documented geometry, and segments a held-out slice. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom } from 'rxjs';
import { evaluate, load, mirror, stitch, threshold, tile, unet } from '../../operators/index.js';
import { geometryOfModel, readMetadata } from '../../src/model/store.js';

const MODEL = 'models/isbi2012-em';

test('the shipped model is a 572 -> 388 valid U-Net with two named classes', async () => {
  assert.deepEqual(await geometryOfModel(MODEL), { kind: 'valid', input: 572, output: 388 });
  const meta = await readMetadata(MODEL);
  assert.deepEqual(meta.classNames, ['membrane', 'cell']);
  assert.ok(Number(meta.provenance?.step) > 0);
});

test('the shipped model segments held-out ISBI slice 24 far better than chance', { timeout: 120000 }, async () => {
  const ref = { path: '../shared/data/isbi2012/train/image/24.png', labelPath: '../shared/data/isbi2012/train/label/24.png' };
  const g = { model: MODEL };
  const s = await lastValueFrom(from([ref]).pipe(load(), mirror(g), tile(g), unet({ model: MODEL }), stitch(), threshold({}), evaluate({})));
  const m = s.metadata!.metrics as { pixelError: number; iou: number };
  // A regression guard, not the target: predicting 'cell' everywhere scores pixel error 0.18 here.
  assert.ok(m.pixelError < 0.12, `pixel error ${m.pixelError}`);
  assert.ok(m.iou > 0.85, `IoU ${m.iou}`);
});
