/**
 * The training graph against PyTorch (test/golden/unet.py, float64 autograd): the loss
 * and every gradient at the golden weights, and the weights after one and two steps
 * of SGD with momentum on ONNX Runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../../src/model/engines/choice.js';
import { loadOnnxRuntime } from '../../../../src/model/engines/onnxruntime.js';
import { openOnnxStepRunner } from '../../../../src/model/engines/onnxruntime-trainer.js';
import { UNet, unetConfig } from '../../../../src/model/network/unet.js';
import { Trainer, type Batch } from '../../../../src/model/training/trainer.js';
import { needs } from '../../../helpers/optional.js';
import { assertClose, graphGradients } from './helpers.js';

const golden = JSON.parse(readFileSync(new URL('../../../golden/unet.json', import.meta.url), 'utf8')) as {
  config: { depth: number; baseFilters: number; classes: number; inputChannels: number; padding: 'valid'; dropout: 0 };
  batch: number;
  inputSize: number;
  optimizer: { kind: 'sgd'; learningRate: number; momentum: number };
  input: string;
  labels: number[];
  weightMap: string;
  loss: number;
  parameters: { name: string; shape: number[]; initial: string; gradient: string; afterOneStep: string; afterTwoSteps: string }[];
};

const LOSS_TOLERANCE = 1e-6;
const GRADIENT_TOLERANCE = 1e-5;
const STEP_TOLERANCE = 1e-4;

const floats = (base64: string) => new Float32Array(Uint8Array.from(Buffer.from(base64, 'base64')).buffer);
const byName = (key: 'initial' | 'gradient' | 'afterOneStep' | 'afterTwoSteps') => new Map(golden.parameters.map((p) => [p.name, floats(p[key])]));
const batch: Batch = { count: golden.batch, images: floats(golden.input), inputSize: golden.inputSize, labels: Int32Array.from(golden.labels), weights: floats(golden.weightMap) };

function goldenNetwork(): UNet {
  const tensors = Object.fromEntries(golden.parameters.map((p) => [p.name, tf.tensor(floats(p.initial), p.shape)]));
  try {
    return UNet.fromTensors(unetConfig(golden.config), tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

test("the training graph's loss and every gradient match PyTorch's", needs('onnxruntime-node'), async (t) => {
  await useBackend('cpu');
  const net = goldenNetwork();
  try {
    const { loss, gradients, nodes } = await graphGradients(await loadOnnxRuntime(), net, batch);
    const d = Math.abs(loss - golden.loss) / golden.loss;
    t.diagnostic(`${nodes} nodes; loss ${loss} (PyTorch ${golden.loss}), relative difference ${d.toExponential(2)}`);
    assert.ok(d <= LOSS_TOLERANCE, `loss ${loss}, PyTorch ${golden.loss}`);
    assertClose(t, 'gradients', gradients, byName('gradient'), GRADIENT_TOLERANCE);
  } finally {
    net.dispose();
  }
});

test(`one and two steps of SGD with momentum ${golden.optimizer.momentum} on ONNX Runtime give PyTorch's weights`, needs('onnxruntime-node'), async (t) => {
  await useBackend('cpu');
  const net = goldenNetwork();
  const options = { optimizer: golden.optimizer };
  const trainer = new Trainer(net, options);
  const runner = await openOnnxStepRunner(trainer, options, await loadOnnxRuntime(), { threads: 1, name: 'golden' });
  const initial = byName('initial');
  const change = (m: Map<string, Float32Array>) => new Map([...m].map(([name, a]) => [name, a.map((v, i) => v - initial.get(name)![i])]));
  try {
    for (const key of ['afterOneStep', 'afterTwoSteps'] as const) {
      await runner.trainStep(batch);
      await runner.sync();
      assertClose(t, key, change(trainer.weightArrays()), change(byName(key)), STEP_TOLERANCE);
    }
  } finally {
    await runner.close();
    trainer.dispose();
    net.dispose();
  }
});
