/** What the training graph takes and gives, by architecture, optimiser and freeze. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOnnxRuntime, sessionOptions } from '../../../../src/model/engines/onnxruntime.js';
import { unetConfig, weightSpecs } from '../../../../src/model/network/unet.js';
import { trainingGraph } from '../../../../src/model/onnx/training/graph.js';
import { needs } from '../../../helpers/optional.js';

const config = unetConfig({ depth: 2, baseFilters: 4, dropout: 0.5 });
const names = weightSpecs(config).map((s) => s.name);
const encoder = names.filter((n) => n.startsWith('down'));

test('an Adam graph with the encoder frozen takes every weight but gives state and updates for the trained ones only', needs('onnxruntime-node'), async () => {
  const graph = trainingGraph(config, { batch: 2, size: 44, optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, frozen: encoder });
  const trained = names.filter((n) => !encoder.includes(n));
  assert.deepEqual(graph.trained, trained);
  assert.equal(graph.outputSize, 4);
  assert.deepEqual(graph.dropoutShape, [2, 16, 4, 4]);
  const session = await (await loadOnnxRuntime()).createSession(graph.bytes, sessionOptions(1));
  try {
    assert.deepEqual(
      [...session.inputNames].sort(),
      [...names, 'image', 'labels', 'weights', 'dropout', 'learningRate', 'c1', 'c2', ...trained.flatMap((n) => [`m/${n}`, `v/${n}`])].sort(),
    );
    assert.deepEqual([...session.outputNames].sort(), ['loss', ...trained.flatMap((n) => [`new/${n}`, `new-m/${n}`, `new-v/${n}`])].sort());
  } finally {
    await session.release();
  }
});

test('a tile size the network cannot take and a network with every weight frozen are refused, saying why', () => {
  assert.throws(() => trainingGraph(config, { batch: 1, size: 45 }), /45/);
  assert.throws(() => trainingGraph(config, { batch: 1, size: 44, frozen: names }), /every weight is frozen: nothing to train/);
});
