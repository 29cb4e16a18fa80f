/**
 * Where a network runs: in this thread, or replicated over worker threads (one tfjs
 * engine each: the wasm and cpu backends use one core per engine in Node). The
 * operators ask for a runner and do not care which.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendInfo } from './choice.js';
import { predictProbabilitiesAsync, type Augmentation } from '../inference/predict.js';
import type { Batch, StepResult, Trainer, TrainerOptions } from '../training/trainer.js';
import type { UNet } from '../network/unet.js';
import { WorkerPool } from '../threads/pool.js';

/**
 * Worker threads to use by default: every core on the single-threaded backends (wasm,
 * cpu), one (this thread) on tfjs-node, whose native TensorFlow threads itself, and on
 * webgpu, whose one device does the work.
 */
export function defaultWorkers(backend: BackendInfo): number {
  return backend.name === 'tensorflow' || backend.name === 'webgpu' ? 1 : availableParallelism();
}

export interface Predictor {
  /** How it runs, for reports: e.g. `wasm, 2 workers`. */
  readonly description: string;
  predict(images: Float32Array, count: number, size: number, tta: Augmentation): Promise<Float32Array>;
  close(): Promise<void>;
}

/**
 * A predictor for `model`: in this thread for `workers` = 1, else a pool of replicas
 * (the model's weights are copied to them and freed here).
 */
export function openPredictor(model: UNet, backend: BackendInfo, workers: number): Predictor {
  onlyInProcessOnWebGpu(backend, workers);
  if (workers <= 1) {
    return {
      description: `${backend.name}, in-process`,
      // Read back asynchronously: a GPU backend cannot read synchronously, and need not block.
      predict: (images, count, size, tta) => predictProbabilitiesAsync(model, images, count, size, tta),
      close: async () => model.dispose(),
    };
  }
  const pool = new WorkerPool({ workers, backend: workerBackend(backend), config: model.config, weights: weightArrays(model) });
  model.dispose();
  return {
    description: `${backend.name}, ${workers} workers`,
    predict: (images, count, size, tta) => pool.predict(images, count, size, tta),
    close: () => pool.close(),
  };
}

export interface StepRunner {
  readonly description: string;
  trainStep(batch: Batch): Promise<StepResult>;
  /** Class probabilities with the current weights (no dropout), e.g. for validation. */
  predict(images: Float32Array, count: number, size: number): Promise<Float32Array>;
  /** Copies the current weights into `trainer.model` (for checkpoints) and returns the optimiser state. */
  sync(): Promise<{ name: string; shape: number[]; data: Float32Array }[]>;
  close(): Promise<void>;
}

/**
 * Training steps for `trainer`: in this thread for `workers` = 1, else data-parallel
 * over a pool whose replicas start from the trainer's weights and optimiser state.
 */
export async function openStepRunner(
  trainer: Trainer,
  options: TrainerOptions,
  backend: BackendInfo,
  workers: number,
  tileParts = 1,
): Promise<StepRunner> {
  onlyInProcessOnWebGpu(backend, workers, tileParts);
  if (workers <= 1 && tileParts <= 1) {
    return {
      description: `${backend.name}, in-process`,
      trainStep: (batch) => trainer.trainStepAsync(batch),
      predict: (images, count, size) => predictProbabilitiesAsync(trainer.model, images, count, size),
      sync: () => trainer.optimizerState(),
      close: async () => undefined,
    };
  }
  const pool = new WorkerPool({
    workers,
    backend: workerBackend(backend),
    config: trainer.model.config,
    weights: trainer.weightArrays(),
    trainer: { ...options, startStep: trainer.step },
    ...(trainer.step > 0 ? { optimizerState: await trainer.optimizerState() } : {}),
    tileParts,
  });
  return {
    description: `${backend.name}, ${workers} workers${tileParts > 1 ? `, ${tileParts} bands per tile` : ''}`,
    trainStep: async (batch) => {
      const result = await pool.trainStep(batch);
      trainer.step = result.step;
      return result;
    },
    predict: (images, count, size) => pool.predict(images, count, size),
    sync: async () => {
      const weights = await pool.weights();
      for (const [name, v] of trainer.model.weights) {
        tf.tidy(() => v.assign(tf.tensor(weights.get(name)!, v.shape)));
      }
      return pool.optimizerState();
    },
    close: () => pool.close(),
  };
}

/**
 * webgpu runs in this thread: its one device does the work (replicas would share it),
 * and the worker protocol reads tensors synchronously, which WebGPU in Node cannot.
 */
function onlyInProcessOnWebGpu(backend: BackendInfo, workers: number, tileParts = 1): void {
  if (backend.name === 'webgpu' && (workers > 1 || tileParts > 1)) {
    throw new RangeError(`backend webgpu runs in one thread on one device: set workers to 1 (got ${workers})${tileParts > 1 ? ` and tileParts to 1 (got ${tileParts})` : ''}`);
  }
}

/** The backend the workers should load: the one this thread resolved to. */
function workerBackend(backend: BackendInfo): BackendChoice {
  return backend.name === 'wasm' || backend.name === 'cpu' ? backend.name : backend.choice;
}

function weightArrays(model: UNet): Map<string, Float32Array> {
  return new Map([...model.weights.entries()].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
}
