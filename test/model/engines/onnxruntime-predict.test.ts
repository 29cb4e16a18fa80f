import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, from, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import { unet } from '../../../operators/unet.js';
import type { RunEvent } from '../../../src/events.js';
import { makeImage } from '../../../src/image/image.js';
import { readImage } from '../../../src/io/read.js';
import { toFloat32 } from '../../../src/image/convert.js';
import { mirrorPad, uniformMargins } from '../../../src/kernels/mirror.js';
import { useBackend } from '../../../src/model/engines/choice.js';
import { loadOnnxRuntime, openOnnxPredictor } from '../../../src/model/engines/onnxruntime.js';
import { symmetries, symmetryIndex } from '../../../src/model/inference/augmentation.js';
import { predictProbabilities } from '../../../src/model/inference/predict.js';
import { defaultMetadata, loadModel, saveModel } from '../../../src/model/store.js';
import { createRng } from '../../../src/random.js';
import { needs, unavailable } from '../../helpers/optional.js';
import { maxDifference, network } from '../onnx/helpers.js';

test('symmetry index maps gather a flipped or transposed image as the tfjs symmetries do', () => {
  // A 2x3 image 0..5: flipping rows gives 3 4 5 / 0 1 2, columns 2 1 0 / 5 4 3.
  assert.deepEqual([...symmetryIndex({ flipY: true, flipX: false, transpose: false }, 2, 3)], [3, 4, 5, 0, 1, 2]);
  assert.deepEqual([...symmetryIndex({ flipY: false, flipX: true, transpose: false }, 2, 3)], [2, 1, 0, 5, 4, 3]);
  // 0 1 / 2 3 flipped in both then transposed: 3 2 / 1 0 transposed is 3 1 / 2 0.
  assert.deepEqual([...symmetryIndex({ flipY: true, flipX: true, transpose: true }, 2, 2)], [3, 1, 2, 0]);
  assert.throws(() => symmetryIndex({ flipY: false, flipX: false, transpose: true }, 2, 3), /square tiles, got 2x3/);
  assert.equal(symmetries('dihedral').length, 8);
});

test('ONNX Runtime gives the tfjs probabilities with and without test-time augmentation, on any thread count, in chunks too', needs('onnxruntime-node'), async () => {
  await useBackend('wasm');
  const ort = await loadOnnxRuntime();
  for (const [i, padding] of (['valid', 'same'] as const).entries()) {
    const config = { depth: 2, baseFilters: 4, classes: 2, inputChannels: 1, padding };
    const size = padding === 'valid' ? 44 : 24;
    const rng = createRng(i);
    const x = Float32Array.from({ length: 3 * size * size }, () => rng.next());
    const reference = network(config, 20 + i);
    // Two thread counts, and chunks of one tile (a budget smaller than a tile).
    const options = [{ threads: 1 }, { threads: 2 }, { threads: 1, budgetBytes: 1 }];
    const predictors = await Promise.all(options.map((o) => openOnnxPredictor(network(config, 20 + i), ort, { ...o, name: `net ${i}` })));
    try {
      for (const tta of ['none', 'flips', 'dihedral'] as const) {
        const expected = await predictProbabilities(reference, x, 3, size, tta);
        for (const p of predictors) {
          const d = maxDifference(await p.predict(x, 3, size, tta), expected);
          assert.ok(d < 1e-4, `${padding}, ${tta}, ${p.description}: max difference ${d}`);
        }
      }
      assert.match(predictors[1].description, /^onnxruntime 1\.\d+\.\d+, 2 threads$/);
    } finally {
      reference.dispose();
      await Promise.all(predictors.map((p) => p.close()));
    }
  }
});

test('the ONNX predictor refuses impossible tiles naming the valid ones, and frees its model on close', needs('onnxruntime-node'), async () => {
  await useBackend('wasm');
  const ort = await loadOnnxRuntime();
  const before = tf.memory().numTensors;
  const p = await openOnnxPredictor(network({ depth: 2, baseFilters: 2 }, 3), ort, { threads: 1, name: 'models/tiny' });
  await assert.rejects(p.predict(new Float32Array(50 * 50), 1, 50, 'none'), /cannot take a 50 px tile; nearest valid: 48 \(-> 8\) or 52 \(-> 12\)/);
  await assert.rejects(p.predict(new Float32Array(10), 1, 44, 'none'), /predict: 10 values for 1 tiles of 44x44x1/);
  await p.close();
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(openOnnxPredictor(network({ depth: 1, baseFilters: 2 }, 3), ort, { threads: 0, name: 'm' }), /threads must be a positive integer, got 0/);
  assert.equal(tf.memory().numTensors, before, 'a model handed to a predictor that fails to open is freed too');
});

test('the shipped model gives the same probabilities on ONNX Runtime as on tfjs for a 572 px tile', { timeout: 120000, ...needs('onnxruntime-node') }, async () => {
  await useBackend('wasm');
  const ort = await loadOnnxRuntime();
  const image = await readImage('fixtures/isbi2012/test/00.png');
  const { model, metadata } = await loadModel('models/isbi2012-em');
  const tile = toFloat32(mirrorPad(image, uniformMargins(30)), metadata.normalisation); // 512 + 2 * 30 = 572
  assert.equal(tile.width, 572);
  const expected = await predictProbabilities(model, tile.data, 1, 572);
  const p = await openOnnxPredictor(model, ort, { threads: 2, name: 'models/isbi2012-em' });
  try {
    const got = await p.predict(tile.data, 1, 572, 'none');
    assert.equal(got.length, 388 * 388 * 2);
    const d = maxDifference(got, expected);
    assert.ok(d < 1e-4, `max difference ${d}`);
  } finally {
    await p.close();
  }
});

test('the unet operator runs on ONNX Runtime by default where it is installed, else on tfjs saying why; backend: wasm gives the same results', async () => {
  await useBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'unetflow-onnx-'));
  try {
    const net = network({ depth: 2, baseFilters: 4, classes: 2, inputChannels: 1 }, 8);
    await saveModel(dir, net, defaultMetadata(net.config, { tile: { input: 60, output: 20 } }));
    net.dispose();
    const rng = createRng(4);
    const tiles = [0, 1, 2].map((i) => ({ id: `t${i}`, source: { path: `t${i}.png` }, image: makeImage(60, 60, 1, 'uint8', Uint8Array.from({ length: 3600 }, () => rng.int(256))) }));
    const run = async (params: { backend?: 'wasm'; workers?: number }) => {
      const events: RunEvent[] = [];
      const out = await firstValueFrom(from(tiles).pipe(unet({ model: dir, tta: 'flips', keepSeconds: 0, ...params }, { emit: (e) => events.push(e) }), toArray()));
      const backend = events.find((e) => e.type === 'backend');
      assert.ok(backend);
      return { out, backend };
    };
    const auto = await run({});
    const missing = unavailable('onnxruntime-node');
    if (!missing) {
      assert.deepEqual([auto.backend.name, auto.backend.package, auto.backend.workers], ['onnxruntime', 'onnxruntime-node', availableParallelism()]);
    } else {
      const tfjs = await useBackend('auto');
      assert.deepEqual([auto.backend.name, auto.backend.package], [tfjs.name, tfjs.package]);
      const reason = missing.endsWith('UNETFLOW_WITHOUT') ? 'not installed (UNETFLOW_WITHOUT)' : 'not installed';
      assert.ok(auto.backend.skipped.includes(`onnxruntime: ${reason}`), auto.backend.skipped.join('; '));
    }
    const wasm = await run({ backend: 'wasm', workers: 1 });
    assert.deepEqual([wasm.backend.name, wasm.backend.workers], ['wasm', 1]);
    for (const [i, s] of auto.out.entries()) {
      const d = maxDifference(s.probabilities!.data as Float32Array, wasm.out[i].probabilities!.data as Float32Array);
      assert.ok(d < 1e-4, `${s.id}: max difference ${d}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
