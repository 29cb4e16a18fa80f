/**
 * What the TensorFlow.js engines share: tfjs keeps one engine per thread, so a network
 * runs in this thread, or replicated over worker threads (threads/pool.ts) that each
 * load the engine this thread resolved to (the wasm and cpu backends use one core per
 * engine in Node). The engine files say which they allow (TfjsEngine.replicas).
 */
import * as tf from '@tensorflow/tfjs';
import { predictProbabilities } from '../inference/predict.js';
import type { UNet } from '../network/unet.js';
import { ReplicaPool } from '../threads/pool.js';
import type { Trainer, TrainerOptions } from '../training/trainer.js';
import type { BackendInfo, Predictor, StepRunner, TfjsEngine } from './engine.js';

/** Switches tfjs's engine for this thread to the backend `name`; every tfjs engine's load ends here. */
export async function setTfjsBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

/**
 * A predictor for `model` on `engine`: in this thread for `workers` = 1, else a pool of
 * replicas (the model's weights are copied to them and freed here).
 * @param budgetBytes what an inference chunk may hold in this thread
 */
export function openTfjsPredictor(model: UNet, engine: TfjsEngine, info: BackendInfo, workers: number, budgetBytes: number): Predictor {
  inOneThreadUnlessReplicas(engine, workers);
  if (workers <= 1) {
    return {
      description: `${info.name}, in-process`,
      predict: (images, count, size, tta) => predictProbabilities(model, images, count, size, tta, { budgetBytes }),
      close: async () => model.dispose(),
    };
  }
  const pool = new ReplicaPool({ workers, engine: engine.name, config: model.config, weights: weightArrays(model) });
  model.dispose();
  return {
    description: `${info.name}, ${workers} workers`,
    predict: (images, count, size, tta) => pool.predict(images, count, size, tta),
    close: () => pool.close(),
  };
}

/**
 * Training steps for `trainer` on `engine`: in this thread for `workers` = 1, else
 * data-parallel over a pool whose replicas start from the trainer's weights and
 * optimiser state.
 */
export async function openTfjsStepRunner(
  trainer: Trainer,
  options: TrainerOptions,
  engine: TfjsEngine,
  info: BackendInfo,
  workers: number,
  tileParts: number,
  budgetBytes: number,
): Promise<StepRunner> {
  inOneThreadUnlessReplicas(engine, workers, tileParts);
  if (workers <= 1 && tileParts <= 1) {
    return {
      description: `${info.name}, in-process`,
      trainStep: (batch) => trainer.trainStep(batch),
      predict: (images, count, size) => predictProbabilities(trainer.model, images, count, size, 'none', { budgetBytes }),
      sync: () => trainer.optimizerState(),
      close: async () => undefined,
    };
  }
  const pool = new ReplicaPool({
    workers,
    engine: engine.name,
    config: trainer.model.config,
    weights: trainer.weightArrays(),
    trainer: { ...options, startStep: trainer.step },
    ...(trainer.step > 0 ? { optimizerState: await trainer.optimizerState() } : {}),
    tileParts,
  });
  return {
    description: `${info.name}, ${workers} workers${tileParts > 1 ? `, ${tileParts} bands per tile` : ''}`,
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

function inOneThreadUnlessReplicas(engine: TfjsEngine, workers: number, tileParts = 1): void {
  if (!engine.replicas && (workers > 1 || tileParts > 1)) {
    throw new RangeError(`backend ${engine.backendName} runs in one thread on one device: set workers to 1 (got ${workers})${tileParts > 1 ? ` and tileParts to 1 (got ${tileParts})` : ''}`);
  }
}

function weightArrays(model: UNet): Map<string, Float32Array> {
  return new Map([...model.weights.entries()].map(([name, v]) => [name, Float32Array.from(v.dataSync())]));
}
