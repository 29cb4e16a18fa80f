/**
 * Training on ONNX Runtime (engines/onnxruntime-trainer.ts) against training on tfjs's
 * cpu backend: the same losses and weights after three steps of each optimiser, a
 * frozen encoder left bit-identical, and a checkpoint's optimiser state that resumes
 * on either engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../../src/model/engines/choice.js';
import { loadOnnxRuntime } from '../../../src/model/engines/onnxruntime.js';
import { openOnnxStepRunner } from '../../../src/model/engines/onnxruntime-trainer.js';
import { sizeMap } from '../../../src/model/network/geometry.js';
import { UNet } from '../../../src/model/network/unet.js';
import { frozenWeights } from '../../../src/model/training/finetune.js';
import { Trainer, type TrainerOptions } from '../../../src/model/training/trainer.js';
import { needs } from '../../helpers/optional.js';
import { discBatch } from '../helpers.js';
import { network } from '../onnx/helpers.js';
import { assertClose } from '../onnx/training/helpers.js';

/** Relative to the largest change of each weight over the steps. */
const STEP_TOLERANCE = 1e-4;
/**
 * Adam divides each gradient by its own running size, so an element whose gradient is
 * near ε shows the engines' float32 rounding (~1e-6 of the largest gradient) a hundredfold.
 */
const ADAM_TOLERANCE = 1e-3;
const LOSS_TOLERANCE = 1e-5;

const config = { depth: 2, baseFilters: 4, padding: 'valid', dropout: 0.5 } as const;
const input = 44;
const batches = [1, 2, 3].map((seed) => discBatch(2, input, sizeMap(input, { ...UNet.create(config).config }).output, seed));

const changes = (after: Map<string, Float32Array>, before: Map<string, Float32Array>) =>
  new Map([...after].map(([name, a]) => [name, a.map((v, i) => v - before.get(name)![i])]));

const adam: TrainerOptions = { optimizer: { kind: 'adam', learningRate: 0.003 }, schedule: { kind: 'constant', warmup: 2 }, seed: 4 };
const optimisers: { what: string; options: TrainerOptions; freeze: boolean; tolerance: number }[] = [
  { what: 'SGD with momentum 0.99', options: { optimizer: { kind: 'sgd', learningRate: 0.05 }, seed: 4 }, freeze: false, tolerance: STEP_TOLERANCE },
  { what: 'Adam with a warm-up', options: adam, freeze: false, tolerance: ADAM_TOLERANCE },
  { what: 'Adam with a warm-up, the encoder frozen', options: adam, freeze: true, tolerance: ADAM_TOLERANCE },
];

for (const { what, options: base, freeze, tolerance } of optimisers) {
  test(`three steps of ${what} on ONNX Runtime track tfjs's`, needs('onnxruntime-node'), async (t) => {
    await useBackend('cpu');
    const ort = await loadOnnxRuntime();
    const onTfjs = network(config, 9);
    const onOrt = network(config, 9);
    const options = { ...base, frozen: freeze ? frozenWeights(onTfjs, 'encoder') : [] };
    const initial = new Trainer(onTfjs, options).weightArrays();
    const reference = new Trainer(onTfjs, options);
    const trainer = new Trainer(onOrt, options);
    const runner = await openOnnxStepRunner(trainer, options, ort, { threads: 1, name: 'test' });
    try {
      for (const batch of batches) {
        const expected = await reference.trainStep(batch);
        const actual = await runner.trainStep(batch);
        assert.equal(actual.step, expected.step);
        assert.equal(actual.learningRate, expected.learningRate);
        assert.ok(Math.abs(actual.loss - expected.loss) <= LOSS_TOLERANCE * expected.loss, `step ${actual.step}: loss ${actual.loss}, tfjs ${expected.loss}`);
      }
      const state = await runner.sync();
      const after = trainer.weightArrays();
      const expected = reference.weightArrays();
      const trained = [...after.keys()].filter((name) => !options.frozen.includes(name));
      const pick = (m: Map<string, Float32Array>) => new Map(trained.map((name) => [name, m.get(name)!]));
      assertClose(t, 'changes of the trained weights', pick(changes(after, initial)), pick(changes(expected, initial)), tolerance);
      for (const name of options.frozen) assert.deepEqual(after.get(name), initial.get(name), `${name} is frozen`);
      const expectedState = await reference.optimizerState();
      assert.deepEqual(state.map((s) => s.shape), expectedState.map((s) => s.shape));
      assert.equal(state[0].data[0], 3);
    } finally {
      await runner.close();
      reference.dispose();
      trainer.dispose();
      onTfjs.dispose();
      onOrt.dispose();
    }
  });
}

test('a checkpoint of ONNX Runtime training resumes on tfjs and on ONNX Runtime as if training had not stopped', needs('onnxruntime-node'), async (t) => {
  await useBackend('cpu');
  const ort = await loadOnnxRuntime();
  const options: TrainerOptions = { optimizer: { kind: 'adam', learningRate: 0.003 }, seed: 2 };
  const straight = network(config, 5);
  const first = network(config, 5);
  const straightTrainer = new Trainer(straight, options);
  const straightRunner = await openOnnxStepRunner(straightTrainer, options, ort, { threads: 1, name: 'straight' });
  const firstTrainer = new Trainer(first, options);
  const firstRunner = await openOnnxStepRunner(firstTrainer, options, ort, { threads: 1, name: 'first' });
  const resumed: UNet[] = [];
  try {
    for (const batch of batches) await straightRunner.trainStep(batch);
    await straightRunner.sync();
    for (const batch of batches.slice(0, 2)) await firstRunner.trainStep(batch);
    const state = await firstRunner.sync();
    const weights = firstTrainer.weightArrays();
    for (const engine of ['tfjs', 'onnxruntime'] as const) {
      const net = UNet.fromTensors(first.config, Object.fromEntries([...first.weights]));
      resumed.push(net);
      const trainer = new Trainer(net, { ...options, startStep: 2 });
      await trainer.restoreOptimizerState(state);
      if (engine === 'tfjs') await trainer.trainStep(batches[2]);
      else {
        const runner = await openOnnxStepRunner(trainer, { ...options, startStep: 2 }, ort, { threads: 1, name: 'resumed' });
        await runner.trainStep(batches[2]);
        await runner.sync();
        await runner.close();
      }
      assert.equal(trainer.step, 3);
      // On ONNX Runtime the resumed step is the straight run's third step but for β2³, which
      // a restore takes as a float32 power where the straight run multiplied (tfjs does the same):
      // 1 − β2³ keeps ~2e-5 of that rounding.
      assertClose(t, `resumed on ${engine}: changes of the third step`, changes(trainer.weightArrays(), weights), changes(straightTrainer.weightArrays(), weights), engine === 'tfjs' ? ADAM_TOLERANCE : STEP_TOLERANCE);
      trainer.dispose();
    }
  } finally {
    await straightRunner.close();
    await firstRunner.close();
    straightTrainer.dispose();
    firstTrainer.dispose();
    for (const net of [straight, first, ...resumed]) net.dispose();
  }
});
