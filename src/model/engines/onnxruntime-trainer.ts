/**
 * Training on ONNX Runtime's CPU provider: the whole step (forward, the weighted loss,
 * backward, the optimiser update) is one graph (onnx/training/graph.ts) run in an
 * ordinary inference session. The weights and the optimiser state stay here between
 * steps, in ONNX's layouts, fed to each run and taken back from its outputs; `sync`
 * writes them into the trainer's network and returns the state in tfjs's layout and
 * order (what tf.train.momentum / tf.train.adam's getWeights give), so that a
 * checkpoint resumes on either engine. The graph's shapes are static: one session per
 * batch and tile size, built when that size first comes. Dropout multipliers are drawn
 * as the tfjs trainer draws them (the same seeds, the same generator), so both engines
 * take the same step. Validation predicts with the current weights on an inference
 * session (onnxruntime.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { UNet } from '../network/unet.js';
import { trainingGraph, type TrainingGraph } from '../onnx/training/graph.js';
import { toOnnx, toTfjs, weightLayouts, type WeightLayout } from '../onnx/training/layout.js';
import { stateNames, type GraphOptimizer } from '../onnx/training/optimiser.js';
import type { OptimizerConfig } from '../training/optimizer.js';
import type { Batch, StepResult, Trainer, TrainerOptions } from '../training/trainer.js';
import type { StepRunner } from './engine.js';
import { openOnnxPredictor, sessionOptions, type OnnxRuntime, type OrtSession, type OrtTensor } from './onnxruntime.js';

export interface OnnxTrainerOptions {
  /** Threads inside each operator. */
  readonly threads: number;
  /** Names the model in errors, e.g. its directory. */
  readonly name: string;
}

/** The graph's optimiser for a trainer's configuration, with createOptimizer's defaults. */
export function graphOptimizer(config: OptimizerConfig): GraphOptimizer {
  return config.kind === 'sgd'
    ? { kind: 'sgd', momentum: config.momentum ?? 0.99 }
    : { kind: 'adam', beta1: config.beta1 ?? 0.9, beta2: config.beta2 ?? 0.999, epsilon: config.epsilon ?? 1e-7 };
}

/** The graph's inputs for a batch: NCHW image, one-hot labels, weight map and dropout multipliers. */
export function batchFeeds(ort: OnnxRuntime, model: UNet, graph: TrainingGraph, batch: Batch, seeds: readonly number[]): Record<string, OrtTensor> {
  const { inputChannels: c, classes: k } = model.config;
  const { count: n, inputSize: s } = batch;
  const o = graph.outputSize;
  if (batch.images.length !== n * s * s * c) throw new RangeError(`batch images hold ${batch.images.length} values, expected ${n}x${s}x${s}x${c}`);
  if (batch.labels.length !== n * o * o) throw new RangeError(`batch labels hold ${batch.labels.length} values, expected ${n}x${o}x${o}`);
  const image = new Float32Array(n * c * s * s);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < s * s; i++) image[(b * c + ch) * s * s + i] = batch.images[(b * s * s + i) * c + ch];
  const labels = new Float32Array(n * k * o * o);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < o * o; i++) {
      const label = batch.labels[b * o * o + i];
      // tf.oneHot leaves a label out of range all zero: no loss, no gradient.
      if (label >= 0 && label < k) labels[(b * k + label) * o * o + i] = 1;
    }
  const feeds: Record<string, OrtTensor> = {
    image: ort.floatTensor(image, [n, c, s, s]),
    labels: ort.floatTensor(labels, [n, k, o, o]),
    weights: ort.floatTensor(batch.weights ? Float32Array.from(batch.weights) : new Float32Array(n * o * o).fill(1), [n, 1, o, o]),
  };
  if (graph.dropoutShape) feeds.dropout = ort.floatTensor(dropoutMultipliers(graph.dropoutShape, model.config.dropout, seeds), graph.dropoutShape);
  return feeds;
}

/**
 * unet.ts's dropout multipliers floor(u + keep) / keep, u drawn per sample from its
 * seed over the bottom map [1, rows, cols, channels] as tf.randomUniform draws it, in NCHW.
 */
function dropoutMultipliers([n, channels, rows, cols]: readonly number[], rate: number, seeds: readonly number[]): Float32Array {
  if (seeds.length !== n) throw new RangeError(`dropout: ${seeds.length} seeds for a batch of ${n}`);
  const keep = 1 - rate;
  const nhwc = tf.tidy(() => {
    const masks = seeds.map((seed) => tf.div(tf.floor(tf.add(tf.randomUniform([1, rows, cols, channels], 0, 1, 'float32', seed), keep)), keep));
    return tf.transpose(n === 1 ? masks[0] : tf.concat(masks, 0), [0, 3, 1, 2]).dataSync() as Float32Array;
  });
  return Float32Array.from(nhwc);
}

/**
 * A step runner for `trainer` on ONNX Runtime with `threads` operator threads,
 * starting from the trainer's weights and (resuming) its optimiser state.
 */
export async function openOnnxStepRunner(trainer: Trainer, options: TrainerOptions, ort: OnnxRuntime, { threads, name }: OnnxTrainerOptions): Promise<StepRunner> {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`ONNX Runtime threads must be a positive integer, got ${threads}`);
  const model = trainer.model;
  const config = model.config;
  const optimizer = graphOptimizer(options.optimizer);
  const frozen = new Set(options.frozen ?? []);
  const layouts = weightLayouts(config);
  const trained = layouts.filter((l) => !frozen.has(l.name));
  const weights = new Map(layouts.map((l) => [l.name, toOnnx(l, model.weights.get(l.name)!.dataSync() as Float32Array)]));
  const slots = optimizer.kind === 'sgd' ? 1 : 2;
  // The tfjs optimiser holds the state a checkpoint restored: [iterations, slot 0 of each trained weight, slot 1 ...].
  const restored = trainer.step > 0 ? (await trainer.optimizerState()).filter((_, i, all) => all.length > 1 || i > 0) : [];
  let iterations = restored.length > 0 ? restored[0].data[0] : 0;
  const state = new Map<string, Float32Array[]>();
  trained.forEach((l, i) => {
    const parts = Array.from({ length: slots }, (_, slot) => {
      const saved = restored.length > 0 ? restored[1 + slot * trained.length + i] : undefined;
      if (saved && saved.data.length !== l.onnxShape.reduce((a, b) => a * b, 1)) throw new Error(`${name}: the optimiser state does not fit '${l.name}'`);
      return saved ? toOnnx(l, saved.data) : new Float32Array(l.onnxShape.reduce((a, b) => a * b, 1));
    });
    state.set(l.name, parts);
  });
  if (restored.length > 0 && restored.length !== 1 + slots * trained.length) {
    throw new Error(`${name}: the optimiser state holds ${restored.length - 1} tensors, ${optimizer.kind} on ${trained.length} trained weights needs ${slots * trained.length}`);
  }
  // Adam's β powers, in float32 as tfjs keeps them (setWeights restores them as β^(t+1)).
  const powers = optimizer.kind === 'adam'
    ? iterations > 0
      ? [Math.fround(Math.fround(optimizer.beta1) ** (iterations + 1)), Math.fround(Math.fround(optimizer.beta2) ** (iterations + 1))]
      : [Math.fround(optimizer.beta1), Math.fround(optimizer.beta2)]
    : [];

  const sessions = new Map<string, Promise<{ graph: TrainingGraph; session: OrtSession }>>();
  const sessionFor = (count: number, size: number) => {
    const key = `${count}x${size}`;
    let open = sessions.get(key);
    if (!open) {
      open = (async () => {
        const graph = trainingGraph(config, { batch: count, size, optimizer, frozen: [...frozen] });
        const session = await ort.createSession(graph.bytes, sessionOptions(threads)).catch((error: Error) => {
          throw new Error(`ONNX Runtime cannot open the training graph of ${name} (${count} tiles of ${size} px): ${error.message}`, { cause: error });
        });
        return { graph, session };
      })();
      open.catch(() => sessions.delete(key));
      sessions.set(key, open);
    }
    return open;
  };

  const trainStep = async (batch: Batch): Promise<StepResult> => {
    if ((batch.inputHeight ?? batch.inputSize) !== batch.inputSize || batch.band) throw new RangeError('ONNX Runtime trains on whole square tiles, not bands of rows');
    const { graph, session } = await sessionFor(batch.count, batch.inputSize);
    const learningRate = trainer.learningRate;
    const feeds = batchFeeds(ort, model, graph, batch, batch.dropoutSeeds ?? trainer.dropoutSeeds(batch.count));
    for (const l of layouts) feeds[l.name] = ort.floatTensor(weights.get(l.name)!, l.onnxShape);
    for (const l of trained) stateNames(optimizer, l.name).inputs.forEach((input, slot) => (feeds[input] = ort.floatTensor(state.get(l.name)![slot], l.onnxShape)));
    feeds.learningRate = ort.floatTensor(Float32Array.of(learningRate), []);
    if (optimizer.kind === 'adam') {
      feeds.c1 = ort.floatTensor(Float32Array.of(1 - powers[0]), []);
      feeds.c2 = ort.floatTensor(Float32Array.of(1 - powers[1]), []);
    }
    let result: Record<string, OrtTensor>;
    try {
      result = await session.run(feeds);
    } catch (error) {
      throw new Error(`ONNX Runtime failed on a training step of ${name} (${batch.count} tiles of ${batch.inputSize} px): ${(error as Error).message}`, { cause: error });
    }
    for (const l of trained) {
      weights.set(l.name, result[`new/${l.name}`].data as Float32Array);
      state.set(l.name, stateNames(optimizer, l.name).outputs.map((o) => result[o].data as Float32Array));
    }
    iterations++;
    if (optimizer.kind === 'adam') {
      powers[0] = Math.fround(powers[0] * Math.fround(optimizer.beta1));
      powers[1] = Math.fround(powers[1] * Math.fround(optimizer.beta2));
    }
    return { step: ++trainer.step, loss: (result.loss.data as Float32Array)[0], learningRate };
  };

  const syncWeights = () => {
    for (const l of layouts) {
      const v = model.weights.get(l.name)!;
      tf.tidy(() => v.assign(tf.tensor(toTfjs(l, weights.get(l.name)!), v.shape)));
    }
  };

  const optimizerState = (): { name: string; shape: number[]; data: Float32Array }[] => {
    const tensors: { layout: WeightLayout; data: Float32Array }[] = [];
    for (let slot = 0; slot < slots; slot++) for (const l of trained) tensors.push({ layout: l, data: state.get(l.name)![slot] });
    return [
      { name: 'optimizer/0', shape: [], data: Float32Array.of(iterations) },
      ...tensors.map(({ layout, data }, i) => ({ name: `optimizer/${i + 1}`, shape: layout.shape, data: toTfjs(layout, data) })),
    ];
  };

  return {
    description: `onnxruntime ${ort.version}, ${threads} thread${threads === 1 ? '' : 's'}, one graph per step`,
    trainStep,
    predict: async (images, count, size) => {
      syncWeights();
      const copy = new UNet(config, new Map([...model.weights].map(([key, v]) => [key, tf.variable(v, false)])));
      const predictor = await openOnnxPredictor(copy, ort, { threads, name });
      try {
        return await predictor.predict(images, count, size, 'none');
      } finally {
        await predictor.close();
      }
    },
    sync: async () => {
      syncWeights();
      return iterations > 0 ? optimizerState() : [{ name: 'optimizer/0', shape: [], data: Float32Array.of(0) }];
    },
    close: async () => {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map(async (s) => (await s.catch(() => undefined))?.session.release()));
    },
  };
}
