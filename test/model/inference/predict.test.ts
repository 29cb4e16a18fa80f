import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/model/engines/choice.js';
import { predictionPeakBytes } from '../../../src/model/network/peak-bytes.js';
import type { Augmentation } from '../../../src/model/inference/augmentation.js';
import { predictProbabilities } from '../../../src/model/inference/predict.js';
import { UNet } from '../../../src/model/network/unet.js';
import { createRng } from '../../../src/random.js';
import { maxDifference } from '../onnx/helpers.js';

function images(count: number, size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count * size * size }, () => rng.next());
}

/** Bytes `f` holds at its peak beyond what was held before, as tfjs's engine counts them. */
async function peak(f: () => Promise<void>): Promise<number> {
  const before = tf.memory().numBytes;
  return (await tf.profile(f)).peakBytes - before;
}

test('a batch cut into chunks to fit a small budget gives the probabilities of one chunk and stays within the budget', async () => {
  await useBackend('cpu');
  const net = UNet.create({ depth: 2, baseFilters: 4, classes: 2 }, 3);
  const x = images(5, 44, 1);
  for (const tta of ['none', 'flips', 'dihedral'] as Augmentation[]) {
    const whole = await predictProbabilities(net, x, 5, 44, tta, { budgetBytes: Infinity });
    const perTile = predictionPeakBytes(net.config, 44, 44, tta);
    for (const tiles of [1, 2]) {
      const budgetBytes = (tiles + 0.5) * perTile;
      let chunked: Float32Array = new Float32Array();
      const held = await peak(async () => void (chunked = await predictProbabilities(net, x, 5, 44, tta, { budgetBytes })));
      assert.ok(held <= budgetBytes, `${tta}, ${tiles} a chunk: ${held} bytes held, budget ${budgetBytes}`);
      assert.ok(held > (tiles - 0.5) * perTile, `${tta}: chunks of ${tiles} tiles, not fewer (${held} bytes)`);
      assert.ok(maxDifference(chunked, whole) < 1e-6, `${tta}, ${tiles} a chunk`);
    }
  }
  net.dispose();
});

test('a tile too large for the budget goes through the network in bands of rows, exactly and within the budget', async () => {
  // tfjs's engine counts tensor bytes the same way on every backend; wasm is the fast one.
  await useBackend('wasm');
  // Enough filters that the network's maps, not the tile's input and output, dominate.
  const net = UNet.create({ depth: 2, baseFilters: 16, classes: 2 }, 4);
  const x = images(2, 188, 2);
  for (const tta of ['none', 'dihedral'] as Augmentation[]) {
    const whole = await predictProbabilities(net, x, 2, 188, tta, { budgetBytes: Infinity });
    const budgetBytes = 0.6 * predictionPeakBytes(net.config, 188, 188, tta);
    let banded: Float32Array = new Float32Array();
    const held = await peak(async () => void (banded = await predictProbabilities(net, x, 2, 188, tta, { budgetBytes })));
    assert.ok(held <= budgetBytes, `${tta}: ${held} bytes held, budget ${budgetBytes}`);
    assert.ok(maxDifference(banded, whole) < 1e-6, `${tta}: max difference ${maxDifference(banded, whole)}`);
  }
  net.dispose();
});

test('a tile that no band split brings within the budget is refused, naming the sizes and the fix', async () => {
  await useBackend('cpu');
  const same = UNet.create({ depth: 2, baseFilters: 4, padding: 'same' }, 1);
  await assert.rejects(
    predictProbabilities(same, images(1, 32, 3), 1, 32, 'none', { budgetBytes: 1000 }),
    /^RangeError: a 32x32 px tile needs \d+ KiB for one pass of this network, more than the 1 KiB an inference chunk may use on cpu \(same-padded networks cannot be split into bands\); use smaller tiles$/,
  );
  const valid = UNet.create({ depth: 2, baseFilters: 4 }, 1);
  await assert.rejects(predictProbabilities(valid, images(1, 92, 3), 1, 92, 'none', { budgetBytes: 1000 }), /on cpu, even in bands of rows; use smaller tiles$/);
  same.dispose();
  valid.dispose();
});

test('a share of the augmentation passes averages only those; shares weighted by their size make the whole average', async () => {
  await useBackend('wasm');
  const net = UNet.create({ depth: 2, baseFilters: 4, classes: 2 }, 5);
  const x = images(2, 44, 4);
  const all = await predictProbabilities(net, x, 2, 44, 'dihedral');
  const first = await predictProbabilities(net, x, 2, 44, 'dihedral', { passes: [0, 3] });
  const rest = await predictProbabilities(net, x, 2, 44, 'dihedral', { passes: [3, 8] });
  const identity = await predictProbabilities(net, x, 2, 44, 'dihedral', { passes: [0, 1] });
  assert.ok(maxDifference(identity, await predictProbabilities(net, x, 2, 44, 'none')) < 1e-7);
  assert.ok(maxDifference(Float32Array.from(all, (_, i) => (3 * first[i] + 5 * rest[i]) / 8), all) < 1e-6);
  assert.ok(maxDifference(first, all) > 1e-4, 'a share differs from the whole');
  net.dispose();
});
