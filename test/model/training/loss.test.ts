import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/model/engines/choice.js';
import { weightedCrossEntropy } from '../../../src/model/training/loss.js';
import { learningRateAt } from '../../../src/model/training/optimizer.js';

test('the weighted loss equals a hand computation on a 2x2 example', async () => {
  await useBackend('wasm');
  // Per pixel: logits, true class, weight, and -log p(true class) worked out by hand.
  //   (0,0) [0, 0] class 0 w 1   -> log 2          = 0.693147
  //   (0,1) [1, 0] class 0 w 2   -> log(1 + e^-1)  = 0.313262, x2 = 0.626523
  //   (1,0) [0, 2] class 0 w 0.5 -> log(1 + e^2)   = 2.126928, x0.5 = 1.063464
  //   (1,1) [3, 1] class 1 w 1   -> log(1 + e^2)   = 2.126928
  // Sum 4.510062 over 4 pixels = 1.1275155.
  const loss = tf.tidy(() =>
    weightedCrossEntropy(
      tf.tensor4d([0, 0, 1, 0, 0, 2, 3, 1], [1, 2, 2, 2]),
      tf.tensor3d([0, 0, 0, 1], [1, 2, 2], 'int32'),
      tf.tensor3d([1, 2, 0.5, 1], [1, 2, 2]),
    ).dataSync()[0],
  );
  assert.ok(Math.abs(loss - 1.1275155) < 1e-6, `loss ${loss}`);
});

test('without weights every pixel counts once, and a normaliser replaces the pixel count', async () => {
  await useBackend('wasm');
  const [plain, halved] = tf.tidy(() => {
    const logits = tf.tensor4d([0, 0, 1, 0, 0, 2, 3, 1], [1, 2, 2, 2]);
    const labels = tf.tensor3d([0, 0, 0, 1], [1, 2, 2], 'int32');
    return [weightedCrossEntropy(logits, labels).dataSync()[0], weightedCrossEntropy(logits, labels, undefined, { normaliser: 8 }).dataSync()[0]];
  });
  const expected = (0.693147 + 0.313262 + 2.126928 + 2.126928) / 4;
  assert.ok(Math.abs(plain - expected) < 1e-6, `loss ${plain}`);
  assert.ok(Math.abs(halved - expected / 2) < 1e-6, `loss ${halved}`);
});

test('mismatched label and output shapes are refused with both shapes named', async () => {
  await useBackend('wasm');
  assert.throws(
    () => tf.tidy(() => weightedCrossEntropy(tf.zeros([1, 2, 2, 2]) as tf.Tensor4D, tf.zeros([1, 3, 3], 'int32') as tf.Tensor3D)),
    /labels are \[1,3,3\], the network output is \[1,2,2\]/,
  );
});

test('learning-rate schedules give the documented rates', () => {
  assert.equal(learningRateAt(0.1, { kind: 'constant' }, 100), 0.1);
  assert.ok(Math.abs(learningRateAt(0.1, { kind: 'step', every: 10, factor: 0.5 }, 25) - 0.025) < 1e-12);
  assert.ok(Math.abs(learningRateAt(1, { kind: 'exponential', decay: 0.9 }, 2) - 0.81) < 1e-12);
  assert.ok(Math.abs(learningRateAt(1, { kind: 'cosine', steps: 10 }, 5) - 0.5) < 1e-12);
  assert.equal(learningRateAt(1, { kind: 'cosine', steps: 10, floor: 0.1 }, 20), 0.1);
  assert.equal(learningRateAt(1, { kind: 'constant', warmup: 4 }, 0), 0.25);
});
