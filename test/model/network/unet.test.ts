import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/model/engines/choice.js';
import { UNet, weightSpecs, unetConfig } from '../../../src/model/network/unet.js';
import { Trainer } from '../../../src/model/training/trainer.js';
import { createRng } from '../../../src/random.js';
import { discBatch } from '../helpers.js';

const tiny = { depth: 2, baseFilters: 4, classes: 2, inputChannels: 1 } as const;

test('the network output has the size the geometry gives, for valid and same padding', async () => {
  await useBackend('wasm');
  for (const [padding, input, output] of [['valid', 60, 20], ['valid', 44, 4], ['same', 16, 16]] as const) {
    const net = UNet.create({ ...tiny, classes: 3, padding }, 1);
    assert.deepEqual(net.sizeMap(input), { input, output });
    const shape = tf.tidy(() => net.apply(tf.zeros([2, input, input, 1]) as tf.Tensor4D).shape);
    assert.deepEqual(shape, [2, output, output, 3]);
    net.dispose();
  }
});

test('the paper configuration has the paper network\'s 31 million parameters', () => {
  const specs = weightSpecs(unetConfig({}));
  const count = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(count, 31_030_658);
});

test('the same seed gives the same initial weights, He-scaled', async () => {
  await useBackend('wasm');
  const a = UNet.create(tiny, 7);
  const b = UNet.create(tiny, 7);
  const c = UNet.create(tiny, 8);
  const k = 'down1/conv1/kernel';
  const va = a.weights.get(k)!.dataSync() as Float32Array;
  assert.deepEqual(va, b.weights.get(k)!.dataSync());
  assert.notDeepEqual(va, c.weights.get(k)!.dataSync());
  // fan-in 3 * 3 * 4 = 36: std sqrt(2 / 36) = 0.236
  const std = Math.sqrt(va.reduce((s, v) => s + v * v, 0) / va.length);
  assert.ok(std > 0.18 && std < 0.3, `std ${std}`);
  for (const n of [a, b, c]) n.dispose();
});

test('an impossible tile size is refused with the nearest valid ones', async () => {
  await useBackend('wasm');
  const net = UNet.create(tiny, 1);
  assert.throws(() => net.sizeMap(50), /nearest valid: 48 \(-> 8\) or 52 \(-> 12\)/);
  net.dispose();
});

test('a small network overfits a small fixture: the loss falls at least 4x within 60 Adam steps', async () => {
  await useBackend('wasm');
  const net = UNet.create({ ...tiny, baseFilters: 8 }, 3);
  const trainer = new Trainer(net, { optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 1 });
  const batch = discBatch(2, 60, 20, 5);
  const first = (await trainer.trainStep(batch)).loss;
  let last = first;
  for (let i = 0; i < 59; i++) last = (await trainer.trainStep(batch)).loss;
  assert.ok(last < first / 4, `loss ${first} -> ${last}`);
  trainer.dispose();
  net.dispose();
});

test('many SGD steps leave no tensors behind', async () => {
  await useBackend('wasm');
  const net = UNet.create(tiny, 3);
  const trainer = new Trainer(net, { optimizer: { kind: 'sgd', learningRate: 0.01 }, schedule: { kind: 'step', every: 5, factor: 0.5 } });
  const batch = discBatch(1, 44, 4, 5);
  await trainer.trainStep(batch); // creates the momentum accumulators
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) await trainer.trainStep(batch);
  assert.equal(tf.memory().numTensors, before);
  const split = trainer.gradients(batch);
  trainer.apply(split.gradients);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(trainer.step, 22);
  trainer.dispose();
  net.dispose();
});

test('infer gives apply\'s logits, valid and same padding, leaves only its result behind and peaks at under half of what apply holds', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await useBackend(backend);
    for (const [padding, input] of [['valid', 92], ['same', 32]] as const) {
      const net = UNet.create({ depth: 3, baseFilters: 8, classes: 3, inputChannels: 2, padding }, 2);
      const rng = createRng(5);
      const x = tf.tensor4d(Float32Array.from({ length: 2 * input * input * 2 }, () => rng.next()), [2, input, input, 2]);
      const expected = tf.tidy(() => net.apply(x).dataSync());
      const before = tf.memory();
      const logits = net.infer(x);
      assert.equal(tf.memory().numTensors, before.numTensors + 1, `${backend} ${padding}: only the result is left`);
      const got = logits.dataSync();
      logits.dispose();
      let d = 0;
      for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - expected[i]));
      assert.ok(d < 1e-5, `${backend} ${padding}: max difference ${d}`);
      if (backend === 'cpu') {
        const peak = async (f: () => void) => (await tf.profile(f)).peakBytes - before.numBytes;
        const lean = await peak(() => net.infer(x).dispose());
        const held = await peak(() => tf.tidy(() => void net.apply(x)));
        assert.ok(lean < held / 2, `${padding}: infer peaks at ${lean} bytes, apply at ${held}`);
      }
      x.dispose();
      net.dispose();
    }
  }
});
