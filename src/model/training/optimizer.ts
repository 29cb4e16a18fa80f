/**
 * Optimisers and learning-rate schedules. The paper trains with SGD, momentum 0.99
 * (so that many previously seen samples shape each update) and batch size 1.
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerConfig =
  | { readonly kind: 'sgd'; readonly learningRate: number; /** @default 0.99 */ readonly momentum?: number }
  | { readonly kind: 'adam'; readonly learningRate: number; readonly beta1?: number; readonly beta2?: number; readonly epsilon?: number };

/**
 * Multiplier applied to the base learning rate at a step (0-based).
 * - `constant`
 * - `step`: × factor every `every` steps
 * - `exponential`: × decay^step
 * - `cosine`: from 1 down to `floor` (default 0) over `steps`, then `floor`
 * Each may start with a linear warm-up over `warmup` steps.
 */
export type Schedule =
  | { readonly kind: 'constant'; readonly warmup?: number }
  | { readonly kind: 'step'; readonly every: number; readonly factor: number; readonly warmup?: number }
  | { readonly kind: 'exponential'; readonly decay: number; readonly warmup?: number }
  | { readonly kind: 'cosine'; readonly steps: number; readonly floor?: number; readonly warmup?: number };

/** The learning rate at `step` (0-based) for a base rate and a schedule. */
export function learningRateAt(base: number, schedule: Schedule, step: number): number {
  const warm = schedule.warmup && step < schedule.warmup ? (step + 1) / schedule.warmup : 1;
  switch (schedule.kind) {
    case 'constant':
      return base * warm;
    case 'step':
      return base * warm * schedule.factor ** Math.floor(step / schedule.every);
    case 'exponential':
      return base * warm * schedule.decay ** step;
    case 'cosine': {
      const floor = schedule.floor ?? 0;
      const t = Math.min(step / schedule.steps, 1);
      return base * warm * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
  }
}

/** A tfjs optimiser whose learning rate can be changed between steps. */
export interface Optimizer {
  readonly tf: tf.Optimizer;
  readonly config: OptimizerConfig;
  setLearningRate(rate: number): void;
  dispose(): void;
}

export function createOptimizer(config: OptimizerConfig): Optimizer {
  if (!(config.learningRate > 0)) throw new RangeError(`learning rate must be positive, got ${config.learningRate}`);
  if (config.kind === 'sgd') {
    const momentum = config.momentum ?? 0.99;
    if (!(momentum >= 0 && momentum < 1)) throw new RangeError(`momentum must be in [0, 1), got ${momentum}`);
    const opt = tf.train.momentum(config.learningRate, momentum);
    return { tf: opt, config, setLearningRate: (r) => opt.setLearningRate(r), dispose: () => opt.dispose() };
  }
  const opt = tf.train.adam(config.learningRate, config.beta1 ?? 0.9, config.beta2 ?? 0.999, config.epsilon ?? 1e-7);
  return {
    tf: opt,
    config,
    // Adam reads its (protected) learningRate field on every update.
    setLearningRate: (r) => {
      (opt as unknown as { learningRate: number }).learningRate = r;
    },
    dispose: () => opt.dispose(),
  };
}
