/**
 * What a train step's parameters mean together: the rules between them (checked when
 * the step is created) and the defaults that depend on others, such as fine-tuning's
 * gentler optimiser.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { requireSeparateFolders, type Freeze } from './finetune.js';
import type { OptimizerConfig, Schedule } from './optimizer.js';
import type { TrainParams } from './params.js';

/** A train step's settings, every default filled in. */
export interface TrainSettings {
  /** The model folder checkpoints go to (and training resumes from). */
  readonly dir: string;
  /** The model to fine-tune from (`from`), resolved. */
  readonly parentDir?: string;
  readonly optimizer: OptimizerConfig;
  readonly schedule?: Schedule;
  readonly normalisation: 'none' | 'dtype' | 'parent' | 'recompute';
  readonly freeze: Freeze;
  /** Steps between checkpoints. */
  readonly every: number;
  readonly seed: number;
}

/** Settings from checked parameters; throws a ConfigError where they contradict each other. */
export function trainSettings(p: TrainParams, dir: string, parentDir: string | undefined, seed: number): TrainSettings {
  if ((p.validation?.images === undefined) !== (p.validation?.labels === undefined)) {
    throw new ConfigError('train: validation needs both images and labels, or neither (then it scores the parts a split step holds out)');
  }
  if (parentDir) {
    try {
      requireSeparateFolders(parentDir, dir);
    } catch (error) {
      throw new ConfigError((error as Error).message, { cause: error });
    }
    const other = Object.keys(p.architecture ?? {}).filter((k) => k !== 'classes');
    if (other.length > 0) throw new ConfigError(`train: with from, the architecture is the parent model's; only classes may be given, not ${other.join(', ')}`);
  } else {
    if (p.freeze && p.freeze !== 'none') throw new ConfigError("train: freeze needs from (a model whose weights to keep)");
    if (p.normalisation === 'parent') throw new ConfigError("train: normalisation 'parent' needs from (the model to take it from)");
  }
  const kind = p.optimizer ?? (parentDir ? 'adam' : 'sgd');
  const learningRate = p.learningRate ?? (parentDir ? 0.0003 : kind === 'sgd' ? 0.01 : 0.001);
  return {
    dir,
    parentDir,
    optimizer: kind === 'sgd' ? { kind, learningRate, momentum: p.momentum ?? 0.99 } : { kind, learningRate },
    schedule: (p.schedule as Schedule | undefined) ?? (parentDir ? { kind: 'constant', warmup: 20 } : undefined),
    normalisation: p.normalisation ?? (parentDir ? 'parent' : 'dtype'),
    freeze: (p.freeze as Freeze | undefined) ?? 'none',
    every: p.checkpointEvery ?? 100,
    seed,
  };
}

/** Whether `dir` holds a checkpoint to resume. */
export const hasCheckpoint = (dir: string) => existsSync(join(dir, 'model.json'));
