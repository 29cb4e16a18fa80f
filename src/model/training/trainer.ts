/**
 * One optimisation step at a time, in two halves so that a batch can be split across
 * replica threads: `gradients` (of this share of the batch) and `apply` (of the summed
 * gradients, on every replica alike). `trainStep` does both in one place.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../../random.js';
import { weightedCrossEntropy } from './loss.js';
import { createOptimizer, learningRateAt, type Optimizer, type OptimizerConfig, type Schedule } from './optimizer.js';
import type { UNet } from '../network/unet.js';

/** A batch as plain arrays (what crosses thread boundaries). */
export interface Batch {
  /** Number of tiles N. */
  readonly count: number;
  /** N × input × input × C, float32, already normalised. */
  readonly images: Float32Array;
  /** Width of each tile (and its height, unless `inputHeight` says otherwise). */
  readonly inputSize: number;
  /** Height of each tile when it is a band of rows rather than a square. @default inputSize */
  readonly inputHeight?: number;
  /** The tiles are this band of taller tiles (dropout masks are cut from the whole tiles'). */
  readonly band?: { readonly top: number; readonly fullHeight: number };
  /** N × output rows × output columns class indices. */
  readonly labels: Int32Array;
  /** N × output rows × output columns loss weights; all 1 when absent. */
  readonly weights?: Float32Array;
  /** One dropout seed per tile. @default derived from the trainer seed, step and tile index */
  readonly dropoutSeeds?: readonly number[];
}

export interface TrainerOptions {
  readonly optimizer: OptimizerConfig;
  /** @default constant */
  readonly schedule?: Schedule;
  /** Seed of the dropout masks. @default 0 */
  readonly seed?: number;
  /** Steps already taken (resuming from a checkpoint). @default 0 */
  readonly startStep?: number;
  /**
   * Names of weights that are not trained (fine-tuning with a frozen contracting
   * path): they get no gradient and no optimiser state, so they stay bit-identical.
   * @default none
   */
  readonly frozen?: readonly string[];
}

export interface StepResult {
  readonly step: number;
  readonly loss: number;
  readonly learningRate: number;
}

export type Gradients = Map<string, Float32Array>;

/** Dropout seeds of tiles `from` .. `from + count` of step `step`: one per tile, whoever computes it. */
export function dropoutSeeds(seed: number, step: number, count: number, from = 0): number[] {
  return Array.from({ length: count }, (_, i) => deriveSeed(seed, 'dropout', step, from + i) % 2 ** 31);
}

export class Trainer {
  private readonly optimizer: Optimizer;
  private readonly schedule: Schedule;
  private readonly seed: number;
  /** The weights that are trained, by name, in the network's order (the optimiser state follows it). */
  private readonly trainable: ReadonlyMap<string, tf.Variable>;
  /** Steps taken so far. */
  step: number;

  constructor(
    readonly model: UNet,
    options: TrainerOptions,
  ) {
    this.optimizer = createOptimizer(options.optimizer);
    this.schedule = options.schedule ?? { kind: 'constant' };
    this.seed = options.seed ?? 0;
    this.step = options.startStep ?? 0;
    const frozen = new Set(options.frozen ?? []);
    const unknown = [...frozen].filter((name) => !model.weights.has(name));
    if (unknown.length > 0) throw new RangeError(`cannot freeze ${unknown.join(', ')}: the network has no such weight`);
    this.trainable = new Map([...model.weights].filter(([name]) => !frozen.has(name)));
    if (this.trainable.size === 0) throw new RangeError('every weight is frozen: nothing to train');
  }

  get learningRate(): number {
    return learningRateAt(this.optimizer.config.learningRate, this.schedule, this.step);
  }

  /** The dropout seeds of the current step's tiles `from` .. `from + count`. */
  dropoutSeeds(count: number, from = 0): number[] {
    return dropoutSeeds(this.seed, this.step, count, from);
  }

  /**
   * Loss (weighted sum / `normaliser`) and its gradients for `batch`, without
   * changing the weights. @param normaliser @default the batch's pixel count
   */
  gradients(batch: Batch, normaliser?: number): { loss: number; gradients: Gradients } {
    const { value, grads } = this.variableGradients(batch, normaliser);
    try {
      const gradients: Gradients = new Map();
      for (const [name, v] of this.trainable) gradients.set(name, grads[v.name].dataSync() as Float32Array);
      return { loss: value.dataSync()[0], gradients };
    } finally {
      value.dispose();
      tf.dispose(grads);
    }
  }

  /** The weights as plain arrays, in their order (for checkpoints and replicas). */
  weightArrays(): Map<string, Float32Array> {
    return new Map([...this.model.weights.entries()].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
  }

  /** Applies (summed) gradients of the trained weights with the current learning rate and advances the step. */
  apply(gradients: Gradients): StepResult {
    const learningRate = this.learningRate;
    tf.tidy(() => {
      const named = [...this.trainable.entries()].map(([name, v]) => {
        const g = gradients.get(name);
        if (!g) throw new Error(`no gradient for '${name}'`);
        return { name: v.name, tensor: tf.tensor(g, v.shape) };
      });
      this.optimizer.setLearningRate(learningRate);
      this.optimizer.tf.applyGradients(named);
    });
    return { step: ++this.step, loss: NaN, learningRate };
  }

  /**
   * One optimisation step on the whole batch here, the loss read back with `data()`: a
   * GPU engine (webgpu) cannot read synchronously in Node.
   */
  async trainStep(batch: Batch): Promise<StepResult> {
    const { value, ...taken } = this.applyBatch(batch);
    try {
      return { ...taken, loss: (await value.data())[0] };
    } finally {
      value.dispose();
    }
  }

  /** Applies the batch's gradients; the loss stays on the backend for the caller to read. */
  private applyBatch(batch: Batch): { value: tf.Scalar; step: number; learningRate: number } {
    const learningRate = this.learningRate;
    const { value, grads } = this.variableGradients(batch);
    try {
      this.optimizer.setLearningRate(learningRate);
      // In the weights' own order, which the optimiser's state follows.
      this.optimizer.tf.applyGradients([...this.trainable.values()].map((v) => ({ name: v.name, tensor: grads[v.name] })));
      return { value, step: ++this.step, learningRate };
    } catch (error) {
      value.dispose();
      throw error;
    } finally {
      tf.dispose(grads);
    }
  }

  /** The optimiser's state (iterations, moments), in the weights' order, as plain arrays. */
  async optimizerState(): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
    const weights = await this.optimizer.tf.getWeights();
    const state = await Promise.all(weights.map(async (w, i) => ({ name: `optimizer/${i}`, shape: w.tensor.shape, data: Float32Array.from(await w.tensor.data()) })));
    // The first entry is the iteration count, a scalar made for this call; the rest are the optimiser's own variables.
    weights[0]?.tensor.dispose();
    return state;
  }

  /** Restores state saved by `optimizerState` (from a model with the same configuration). */
  async restoreOptimizerState(state: readonly { shape: number[]; data: Float32Array }[]): Promise<void> {
    // setWeights keeps (as variables) the values it is given, so these tensors are not disposed here.
    await this.optimizer.tf.setWeights(state.map((s, i) => ({ name: `optimizer/${i}`, tensor: tf.tensor(s.data, s.shape) })));
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  private variableGradients(batch: Batch, normaliser?: number) {
    const seeds = batch.dropoutSeeds ?? this.dropoutSeeds(batch.count);
    const { inputSize: s, count: n } = batch;
    const h = batch.inputHeight ?? s;
    const channels = this.model.config.inputChannels;
    if (batch.images.length !== n * h * s * channels) {
      throw new RangeError(`batch images hold ${batch.images.length} values, expected ${n}x${h}x${s}x${channels}`);
    }
    const ow = this.model.sizeMap(s).output;
    const oh = this.model.sizeMap(h).output;
    if (batch.labels.length !== n * oh * ow) throw new RangeError(`batch labels hold ${batch.labels.length} values, expected ${n}x${oh}x${ow}`);
    return tf.tidy(() => {
      const x = tf.tensor4d(batch.images, [n, h, s, channels]);
      const labels = tf.tensor3d(batch.labels, [n, oh, ow], 'int32');
      const weights = batch.weights ? tf.tensor3d(batch.weights, [n, oh, ow]) : undefined;
      const vars = [...this.trainable.values()];
      return tf.variableGrads(
        () => weightedCrossEntropy(this.model.apply(x, { training: true, dropoutSeeds: seeds, band: batch.band }), labels, weights, { normaliser }),
        vars,
      );
    });
  }
}
