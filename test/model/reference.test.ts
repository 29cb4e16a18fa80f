/**
 * The U-Net against an outside reference: golden values from PyTorch (test/golden/unet.py,
 * which defines the network itself, from the paper) for a depth-2, 8-filter valid U-Net with
 * fixed weights on a batch of two 48 px tiles (8 px out). The JSON is already in our layouts
 * (NHWC, HWIO kernels, [cin, 4 cout] up-convolutions); the script says how it maps PyTorch's.
 * The references are float64, so the tolerances below only have to cover float32 rounding
 * (the script records how far float32 PyTorch itself lies: float32Noise).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/model/engines/choice.js';
import { exportUNet, INPUT_NAME, OUTPUT_NAME } from '../../src/model/onnx/export.js';
import { loadOnnxRuntime, sessionOptions } from '../../src/model/engines/onnxruntime.js';
import { predictProbabilities } from '../../src/model/inference/predict.js';
import { Trainer, type Batch } from '../../src/model/training/trainer.js';
import { sizeMap } from '../../src/model/network/geometry.js';
import { UNet, unetConfig, weightSpecs } from '../../src/model/network/unet.js';
import { needs } from '../helpers/optional.js';
import { maxDifference } from './onnx/helpers.js';

interface GoldenParameter {
  name: string;
  shape: number[];
  initial: string;
  gradient: string;
  afterOneStep: string;
  afterTwoSteps: string;
}
const golden = JSON.parse(readFileSync(new URL('../golden/unet.json', import.meta.url), 'utf8')) as {
  config: { depth: number; baseFilters: number; classes: number; inputChannels: number; padding: 'valid'; dropout: 0 };
  batch: number;
  inputSize: number;
  outputSize: number;
  optimizer: { kind: 'sgd'; learningRate: number; momentum: number };
  input: string;
  labels: number[];
  weightMap: string;
  probabilities: string;
  loss: number;
  parameters: GoldenParameter[];
};

/** Max absolute difference of the probabilities. */
const PROBABILITY_TOLERANCE = 1e-5;
/** Relative difference of the loss. */
const LOSS_TOLERANCE = 1e-6;
/** Per parameter: max |ours - reference| / max |reference| of its gradient. */
const GRADIENT_TOLERANCE = 1e-5;
/** Per parameter: the same for its change over the steps (float32 weights round the change to ~1e-5 of it). */
const STEP_TOLERANCE = 1e-4;

/** float32 little-endian base64, copied so that the array is aligned. */
function floats(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

function relativeDifference(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  return maxDifference(actual, expected) / scale;
}

function difference(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v - b[i]);
}

const config = unetConfig(golden.config);
const initial = new Map(golden.parameters.map((p) => [p.name, floats(p.initial)]));
const input = floats(golden.input);
const probabilities = floats(golden.probabilities);
const batch: Batch = {
  count: golden.batch,
  images: input,
  inputSize: golden.inputSize,
  labels: Int32Array.from(golden.labels),
  weights: floats(golden.weightMap),
};

function goldenNetwork(): UNet {
  const tensors = Object.fromEntries(golden.parameters.map((p) => [p.name, tf.tensor(initial.get(p.name)!, p.shape)]));
  try {
    return UNet.fromTensors(config, tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** Largest per-parameter difference and where, checked against `tolerance`. */
function checkParameters(t: TestContext, what: string, tolerance: number, compare: (p: GoldenParameter) => number): void {
  let worst = { name: '', value: 0 };
  const over: string[] = [];
  for (const p of golden.parameters) {
    const d = compare(p);
    if (d > worst.value) worst = { name: p.name, value: d };
    if (!(d <= tolerance)) over.push(`${p.name}: ${d.toExponential(2)}`);
  }
  t.diagnostic(`${what}: largest relative difference ${worst.value.toExponential(2)} (${worst.name})`);
  assert.deepEqual(over, [], `${what} beyond ${tolerance} relative`);
}

test('the golden file holds every weight of a depth-2, 8-filter valid U-Net, in our order and layouts', () => {
  const specs = weightSpecs(config);
  assert.deepEqual(golden.parameters.map((p) => [p.name, p.shape]), specs.map((s) => [s.name, s.shape]));
  assert.deepEqual(sizeMap(golden.inputSize, config), { input: 48, output: golden.outputSize });
  assert.equal(config.dropout, 0);
});

for (const backend of ['cpu', 'wasm'] as const) {
  test(`on tfjs ${backend}, the softmax probabilities match PyTorch's within ${PROBABILITY_TOLERANCE}`, async (t) => {
    await useBackend(backend);
    const net = goldenNetwork();
    try {
      const d = maxDifference(await predictProbabilities(net, input, golden.batch, golden.inputSize), probabilities);
      t.diagnostic(`max difference ${d.toExponential(2)}`);
      assert.ok(d <= PROBABILITY_TOLERANCE, `max difference ${d}`);
    } finally {
      net.dispose();
    }
  });

  test(`on tfjs ${backend}, the weighted loss and every parameter's gradient match PyTorch's`, async (t) => {
    await useBackend(backend);
    const net = goldenNetwork();
    const trainer = new Trainer(net, { optimizer: golden.optimizer });
    try {
      const { loss, gradients } = trainer.gradients(batch);
      const d = Math.abs(loss - golden.loss) / golden.loss;
      t.diagnostic(`loss ${loss} (PyTorch ${golden.loss}), relative difference ${d.toExponential(2)}`);
      assert.ok(d <= LOSS_TOLERANCE, `loss ${loss}, PyTorch ${golden.loss}`);
      checkParameters(t, 'gradients', GRADIENT_TOLERANCE, (p) => relativeDifference(gradients.get(p.name)!, floats(p.gradient)));
    } finally {
      trainer.dispose();
      net.dispose();
    }
  });

  test(`on tfjs ${backend}, one and two steps of SGD with momentum ${golden.optimizer.momentum} give PyTorch's parameters`, async (t) => {
    await useBackend(backend);
    const net = goldenNetwork();
    const trainer = new Trainer(net, { optimizer: golden.optimizer });
    try {
      // Compared as changes from the initial weights: the second step is where momentum shows.
      for (const key of ['afterOneStep', 'afterTwoSteps'] as const) {
        await trainer.trainStep(batch);
        const after = trainer.weightArrays();
        checkParameters(t, key, STEP_TOLERANCE, (p) =>
          relativeDifference(difference(after.get(p.name)!, initial.get(p.name)!), difference(floats(p[key]), initial.get(p.name)!)),
        );
      }
    } finally {
      trainer.dispose();
      net.dispose();
    }
  });
}

test(
  `the exported ONNX model on ONNX Runtime gives PyTorch's probabilities within ${PROBABILITY_TOLERANCE}`,
  needs('onnxruntime-node'),
  async (t) => {
    const ort = await loadOnnxRuntime();
    const session = await ort.createSession(exportUNet(config, initial, 'golden'), sessionOptions(1));
    try {
      const { batch: n, inputSize: s, outputSize: o } = golden;
      const k = config.classes;
      // NHWC -> NCHW (one input channel: the same values) and the output back to NHWC.
      const result = await session.run({ [INPUT_NAME]: ort.floatTensor(input, [n, config.inputChannels, s, s]) });
      assert.deepEqual(result[OUTPUT_NAME].dims, [n, k, o, o]);
      const nchw = result[OUTPUT_NAME].data as Float32Array;
      const nhwc = new Float32Array(nchw.length);
      for (let b = 0; b < n; b++) for (let c = 0; c < k; c++) for (let i = 0; i < o * o; i++) nhwc[(b * o * o + i) * k + c] = nchw[(b * k + c) * o * o + i];
      const d = maxDifference(nhwc, probabilities);
      t.diagnostic(`max difference ${d.toExponential(2)}`);
      assert.ok(d <= PROBABILITY_TOLERANCE, `max difference ${d}`);
    } finally {
      await session.release();
    }
  },
);
