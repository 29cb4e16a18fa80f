/**
 * The training graph's loss and gradients against an outside reference: tfjs's
 * autodiff of the same network (training/trainer.ts on tfjs's cpu backend) on several
 * architectures and tile sizes, dropout and a weight map included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../../../src/model/engines/choice.js';
import { loadOnnxRuntime } from '../../../../src/model/engines/onnxruntime.js';
import { sizeMap } from '../../../../src/model/network/geometry.js';
import type { UNetConfig } from '../../../../src/model/network/unet.js';
import { Trainer } from '../../../../src/model/training/trainer.js';
import { needs } from '../../../helpers/optional.js';
import { discBatch } from '../../helpers.js';
import { network } from '../helpers.js';
import { assertClose, graphGradients } from './helpers.js';

/** Relative to each gradient's largest value: float32 sums taken in another order. */
const GRADIENT_TOLERANCE = 1e-5;
const LOSS_TOLERANCE = 1e-6;

const cases: { config: Partial<UNetConfig>; input: number; count: number }[] = [
  { config: { depth: 2, baseFilters: 4, padding: 'valid', dropout: 0 }, input: 44, count: 1 },
  { config: { depth: 2, baseFilters: 4, padding: 'same', dropout: 0.5 }, input: 24, count: 2 },
  { config: { depth: 3, baseFilters: 3, padding: 'valid', dropout: 0.5, classes: 3 }, input: 92, count: 1 },
  { config: { depth: 3, baseFilters: 2, padding: 'same', dropout: 0, inputChannels: 2 }, input: 16, count: 2 },
  // The paper's geometry (depth 4, valid, 188 -> 4 px), with dropout.
  { config: { depth: 4, baseFilters: 2, padding: 'valid', dropout: 0.5 }, input: 188, count: 1 },
];

for (const { config, input, count } of cases) {
  const name = `depth ${config.depth}, ${config.baseFilters} filters, ${config.padding}${config.dropout ? ', dropout' : ''}${config.classes ? `, ${config.classes} classes` : ''}${config.inputChannels ? `, ${config.inputChannels} channels` : ''}, ${count} x ${input} px`;
  test(`the graph's loss and gradients of every weight equal tfjs's: ${name}`, needs('onnxruntime-node'), async (t) => {
    await useBackend('cpu');
    const ort = await loadOnnxRuntime();
    const net = network(config, 7);
    const trainer = new Trainer(net, { optimizer: { kind: 'sgd', learningRate: 0.01 } });
    try {
      const output = sizeMap(input, net.config).output;
      const batch = withChannels(withClasses(discBatch(count, input, output, 3), net.config.classes), net.config.inputChannels);
      const expected = trainer.gradients(batch);
      const actual = await graphGradients(ort, net, batch);
      t.diagnostic(`${actual.nodes} nodes; loss ${actual.loss} (tfjs ${expected.loss})`);
      assert.ok(Math.abs(actual.loss - expected.loss) <= LOSS_TOLERANCE * expected.loss, `loss ${actual.loss}, tfjs ${expected.loss}`);
      assertClose(t, 'gradients', actual.gradients, expected.gradients, GRADIENT_TOLERANCE);
    } finally {
      trainer.dispose();
      net.dispose();
    }
  });
}

/** A third class where the label and the image's row parity say so, so that every class's channel has a gradient. */
function withClasses(batch: ReturnType<typeof discBatch>, classes: number) {
  if (classes <= 2) return batch;
  return { ...batch, labels: batch.labels.map((l, i) => (l === 1 && i % 2 === 0 ? 2 : l)) };
}

/** The image repeated over `channels`, the second channel inverted. */
function withChannels(batch: ReturnType<typeof discBatch>, channels: number) {
  if (channels <= 1) return batch;
  const images = new Float32Array(batch.images.length * channels);
  batch.images.forEach((v, i) => {
    for (let c = 0; c < channels; c++) images[i * channels + c] = c % 2 ? 1 - v : v;
  });
  return { ...batch, images };
}
