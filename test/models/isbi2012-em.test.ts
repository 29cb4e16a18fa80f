/** The model that ships: it loads, has the documented geometry, and segments a held-out slice. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { runPipeline } from '../../src/pipeline/run.js';
import { geometryOfModel, readMetadata } from '../../src/model/store.js';
import { collect, ofType, tempDir } from '../helpers/files.js';

const MODEL = 'models/isbi2012-em';

test('the shipped model is a 572 -> 388 valid U-Net with two named classes', async () => {
  assert.deepEqual(await geometryOfModel(MODEL), { kind: 'valid', input: 572, output: 388 });
  const meta = await readMetadata(MODEL);
  assert.deepEqual(meta.classNames, ['membrane', 'cell']);
  assert.ok(Number(meta.provenance?.step) > 0);
});

// ONNX Runtime takes about 40 s here; tfjs WebAssembly (without onnxruntime-node) about 150 s on two busy cores.
test('the evaluate pipeline scores held-out ISBI slice 24 within 10% of the shipped model\'s figures, cells kept apart', { timeout: 600000 }, async () => {
  const out = await tempDir();
  const events = await collect(
    runPipeline('pipelines/evaluate-isbi2012.yaml', { set: ['source.pairs.pattern=24.png', `steps.7.save.dir=${out}`] }),
  );
  const [done] = ofType(events, 'file-done');
  assert.equal(done.id, '24');
  const m = done.metrics!;
  // Today (2026-11-29), identical on ONNX Runtime and on tfjs WebAssembly (measured there with
  // steps.3.unet.batchSize=1: at the default 4, dihedral TTA overflows wasm's 4 GiB heap): pixel error 0.07476,
  // Rand error 0.08211, IoU 0.91365, VI 0.6064 bits. The bounds are 10% worse (for IoU, 10% more
  // of 1 - IoU), so a real regression fails. For scale: predicting 'cell' everywhere scores pixel
  // error 0.18, and a plain threshold at 0.5 merges cells through faint membranes (Rand error 0.33).
  assert.ok(m.pixelError < 0.0822, `pixel error ${m.pixelError}`);
  assert.ok(m.randError < 0.0903, `Rand error ${m.randError}`);
  assert.ok(m.iou > 0.905, `IoU ${m.iou}`);
  assert.ok(m.vi < 0.667, `VI ${m.vi}`);
  assert.deepEqual((await readdir(out)).sort(), ['24.mask.png', '24.overlay.png']);
});
