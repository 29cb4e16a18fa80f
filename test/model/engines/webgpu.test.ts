/**
 * The GPU path on WebGPU, checked against the CPU backends. In CI the adapter is Mesa's
 * lavapipe (a CPU Vulkan driver that .ci/run installs): the same WGSL shaders a GPU
 * runs, slowly, so the networks here are small (depth 2, 188 px).
 *
 * tfjs moves a tensor between backends by reading it synchronously, which WebGPU in
 * Node cannot: each test computes its CPU reference first, from plain arrays, and
 * frees every webgpu tensor before it switches back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend, useInferenceBackend } from '../../../src/model/engines/choice.js';
import { weightedCrossEntropy } from '../../../src/model/training/loss.js';
import { predictProbabilities } from '../../../src/model/inference/predict.js';
import { defaultMetadata, loadModel, saveModel } from '../../../src/model/store.js';
import { Trainer, type Batch } from '../../../src/model/training/trainer.js';
import { sizeMap } from '../../../src/model/network/geometry.js';
import { UNet, unetConfig, weightSpecs } from '../../../src/model/network/unet.js';
import { adapterLine } from '../../../src/events.js';
import { lavapipeInstalled, needsWebGpu } from '../../helpers/optional.js';
import { discBatch } from '../helpers.js';

const gpu = await needsWebGpu();
const INPUT = 188;
/** No dropout: its masks come from each backend's own random kernel. */
const config = unetConfig({ depth: 2, baseFilters: 4, classes: 2, inputChannels: 1, padding: 'valid', dropout: 0 });
const OUTPUT = sizeMap(INPUT, config).output;
const shapes = new Map(weightSpecs(config).map((s) => [s.name, s.shape]));
const options = { optimizer: { kind: 'sgd' as const, learningRate: 0.01, momentum: 0.99 }, seed: 1 };

/** The network's weights as plain arrays, drawn once on the cpu backend. */
async function initialWeights(seed: number): Promise<Map<string, Float32Array>> {
  await useBackend('cpu');
  const net = UNet.create(config, seed);
  const weights = new Map([...net.weights].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
  net.dispose();
  return weights;
}

/** A network with `weights` on the current backend. */
function build(weights: Map<string, Float32Array>): UNet {
  const tensors = Object.fromEntries([...weights].map(([name, data]) => [name, tf.tensor(data, shapes.get(name))]));
  const net = UNet.fromTensors(config, tensors);
  tf.dispose(tensors);
  return net;
}

/** Loss and parameter gradients of `batch`, read back asynchronously (webgpu cannot read synchronously). */
async function gradients(net: UNet, batch: Batch): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const { value, grads } = tf.variableGrads(() =>
    tf.tidy(() => {
      const x = tf.tensor4d(batch.images, [batch.count, INPUT, INPUT, 1]);
      const labels = tf.tensor3d(batch.labels, [batch.count, OUTPUT, OUTPUT], 'int32');
      const weights = tf.tensor3d(batch.weights!, [batch.count, OUTPUT, OUTPUT]);
      return weightedCrossEntropy(net.apply(x, { training: true }), labels, weights);
    }),
  );
  const out = new Map<string, Float32Array>();
  for (const [name, v] of net.weights) out.set(name, (await grads[v.name].data()) as Float32Array);
  const loss = (await value.data())[0];
  tf.dispose([value, grads]);
  return { loss, grads: out };
}

/** Largest |a - b| over the largest |b|: the error relative to the reference's scale. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

test('UNETFLOW_WITHOUT=webgpu disables the webgpu backend, forced or in auto, even after it was used', async () => {
  const before = process.env.UNETFLOW_WITHOUT;
  process.env.UNETFLOW_WITHOUT = 'webgpu';
  try {
    await assert.rejects(useBackend('webgpu'), { message: "backend 'webgpu' is not available: webgpu: not installed (UNETFLOW_WITHOUT)" });
    const info = await useBackend('auto');
    assert.ok(info.skipped.includes('webgpu: not installed (UNETFLOW_WITHOUT)'), info.skipped.join('\n'));
  } finally {
    if (before === undefined) delete process.env.UNETFLOW_WITHOUT;
    else process.env.UNETFLOW_WITHOUT = before;
  }
});

test('backend webgpu runs on the adapter Dawn finds and names it', gpu, async (t) => {
  const info = await useBackend('webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.deepEqual([info.name, info.package, info.skipped], ['webgpu', '@tensorflow/tfjs-backend-webgpu', []]);
  const adapter = info.adapter!;
  t.diagnostic(`webgpu adapter: ${adapterLine(adapter)}`);
  assert.ok(adapter.vendor && adapter.architecture && adapter.description, `an adapter with vendor, architecture and description: ${JSON.stringify(adapter)}`);
  if (lavapipeInstalled() && adapter.software) {
    assert.equal(adapter.vendor, 'mesa');
    assert.match(adapter.description, /llvmpipe/);
  }
});

test('auto never chooses a software adapter, and says which it passed over', gpu, async (t) => {
  const { adapter } = await useBackend('webgpu');
  if (!adapter!.software) return t.skip(`the adapter here is hardware (${adapterLine(adapter!)})`);
  await useBackend('wasm'); // so that auto chooses again
  const expected = /^webgpu: software adapter \(mesa, llvmpipe.*\), not chosen automatically$/;
  const info = await useBackend('auto');
  assert.notEqual(info.name, 'webgpu');
  assert.equal(info.adapter, undefined);
  assert.equal(info.skipped.filter((s) => expected.test(s)).length, 1, info.skipped.join('\n'));
  const inference = await useInferenceBackend('auto');
  assert.notEqual(inference.info.name, 'webgpu');
  assert.ok(inference.info.skipped.some((s) => expected.test(s)), inference.info.skipped.join('\n'));
});

test('forward probabilities on webgpu, flip augmentation included, equal wasm\'s within 1e-5', gpu, async () => {
  const weights = await initialWeights(3);
  const { images } = discBatch(2, INPUT, OUTPUT, 5);
  await useBackend('wasm');
  const onWasm = build(weights);
  const expected = await predictProbabilities(onWasm, images, 2, INPUT, 'flips');
  onWasm.dispose();

  await useBackend('webgpu');
  const onGpu = build(weights);
  const before = tf.memory().numTensors;
  const probabilities = await predictProbabilities(onGpu, images, 2, INPUT, 'flips');
  assert.equal(tf.memory().numTensors, before, 'prediction leaves no tensor behind');
  onGpu.dispose();
  assert.equal(probabilities.length, 2 * OUTPUT * OUTPUT * 2);
  const error = maxAbsDifference(probabilities, expected);
  assert.ok(error <= 1e-5, `max |webgpu - wasm| = ${error}`);
});

test('loss and parameter gradients on webgpu equal the cpu backend\'s within 1e-4 of each gradient\'s scale', gpu, async (t) => {
  const weights = await initialWeights(4);
  const batch = discBatch(1, INPUT, OUTPUT, 6);
  await useBackend('cpu');
  const onCpu = build(weights);
  const expected = await gradients(onCpu, batch);
  onCpu.dispose();

  await useBackend('webgpu');
  const onGpu = build(weights);
  const got = await gradients(onGpu, batch);
  onGpu.dispose();
  assert.ok(Math.abs(got.loss - expected.loss) <= 1e-5 * expected.loss, `loss ${got.loss} vs ${expected.loss}`);
  let worst = 0;
  for (const [name, g] of expected.grads) {
    const error = relativeError(got.grads.get(name)!, g);
    worst = Math.max(worst, error);
    assert.ok(error <= 1e-4, `${name}: gradient error ${error} of its largest value`);
  }
  t.diagnostic(`largest gradient error: ${worst.toExponential(1)} of the gradient's scale`);
});

test('three training steps on webgpu track the same steps on wasm, and the model saved on webgpu predicts the same on wasm', gpu, async (t) => {
  const weights = await initialWeights(5);
  const batches = [7, 8, 9].map((seed) => discBatch(1, INPUT, OUTPUT, seed));
  const { images } = discBatch(1, INPUT, OUTPUT, 10);

  await useBackend('wasm');
  const wasmTrainer = new Trainer(build(weights), options);
  const wasmLosses: number[] = [];
  for (const b of batches) wasmLosses.push((await wasmTrainer.trainStep(b)).loss);
  const wasmWeights = wasmTrainer.weightArrays();
  wasmTrainer.dispose();
  wasmTrainer.model.dispose();

  await useBackend('webgpu');
  const trainer = new Trainer(build(weights), options);
  const losses = [(await trainer.trainStep(batches[0])).loss];
  // Counted after the first step, which creates the optimiser's momentum variables.
  const before = tf.memory().numTensors;
  for (const b of batches.slice(1)) losses.push((await trainer.trainStep(b)).loss);
  await trainer.optimizerState();
  assert.equal(tf.memory().numTensors, before, 'training steps leave no tensor behind');
  // Momentum 0.99 carries every step's rounding into the next: 1e-4 relative holds with room.
  losses.forEach((loss, i) => assert.ok(Math.abs(loss - wasmLosses[i]) <= 1e-4 * wasmLosses[i], `step ${i + 1}: loss ${loss} vs wasm ${wasmLosses[i]}`));
  assert.ok(losses[2] < losses[0], `the loss falls: ${losses.join(', ')}`);
  const gpuWeights = new Map<string, Float32Array>();
  for (const [name, v] of trainer.model.weights) gpuWeights.set(name, (await v.data()) as Float32Array);
  // The steps' updates, compared to the updates' own scale (a bias starts at 0).
  const update = (w: Float32Array, name: string) => w.map((v, i) => v - weights.get(name)![i]);
  let worst = 0;
  for (const [name, w] of wasmWeights) {
    const error = relativeError(update(gpuWeights.get(name)!, name), update(w, name));
    worst = Math.max(worst, error);
    assert.ok(error <= 1e-3, `${name}: its update over 3 steps differs by ${error} of the update's scale`);
  }
  t.diagnostic(`largest update error after 3 steps: ${worst.toExponential(1)} of the update's scale`);

  const dir = await mkdtemp(join(tmpdir(), 'unetflow-webgpu-'));
  try {
    await saveModel(dir, trainer.model, defaultMetadata(trainer.model.config), await trainer.optimizerState());
    const onGpu = await predictProbabilities(trainer.model, images, 1, INPUT);
    trainer.dispose();
    trainer.model.dispose();

    await useBackend('wasm');
    const loaded = await loadModel(dir);
    for (const [name, v] of loaded.model.weights) assert.deepEqual(v.dataSync(), gpuWeights.get(name), `${name} is stored exactly`);
    const onWasm = await predictProbabilities(loaded.model, images, 1, INPUT);
    loaded.model.dispose();
    const error = maxAbsDifference(onWasm, onGpu);
    assert.ok(error <= 1e-5, `max |wasm(loaded) - webgpu| = ${error}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
