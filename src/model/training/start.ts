/**
 * Where a training run starts: the checkpoint in its model folder (resumed with the
 * freeze it was made with), a parent model's weights (fine-tuning), or a new network.
 */
import { ConfigError } from '../../errors.js';
import type { Normalisation } from '../../image/convert.js';
import { UNet } from '../network/unet.js';
import { defaultMetadata, loadModel, type ModelMetadata } from '../store.js';
import { adaptNetwork, frozenWeights, loadParent, type Freeze } from './finetune.js';
import { hasCheckpoint, type TrainSettings } from './options.js';
import type { TrainParams } from './params.js';
import { Trainer, type TrainerOptions } from './trainer.js';

export interface Start {
  readonly trainer: Trainer;
  readonly options: TrainerOptions;
  readonly metadata: ModelMetadata;
  /** The normalisation is to be recomputed from the first batch. */
  readonly recompute: boolean;
  /** What to log about the start, when there is more to say than the step number. */
  readonly note?: string;
}

/** The trainer a run starts with; a new or fine-tuned network's metadata is made here too. */
export async function startTraining(p: TrainParams, s: TrainSettings): Promise<Start> {
  const { optimizer, schedule, seed } = s;
  if (hasCheckpoint(s.dir)) {
    const loaded = await loadModel(s.dir);
    const startStep = Number(loaded.metadata.provenance?.step ?? 0);
    // The optimiser state holds the trained weights only: resume with the freeze the checkpoint was made with.
    const recorded = (loaded.metadata.provenance?.freeze as Freeze | undefined) ?? 'none';
    if (p.freeze !== undefined && p.freeze !== recorded) {
      loaded.model.dispose();
      throw new ConfigError(`train: ${s.dir} was trained with freeze: ${recorded}; resume it with the same, or start a new model folder`);
    }
    const options = { optimizer, schedule, seed, startStep, frozen: frozenWeights(loaded.model, recorded) };
    const trainer = new Trainer(loaded.model, options);
    if (loaded.optimizerState) await trainer.restoreOptimizerState(loaded.optimizerState);
    return { trainer, options, metadata: loaded.metadata, recompute: false };
  }
  if (s.parentDir) return startFromParent(p, s, s.parentDir);
  const model = UNet.create(p.architecture ?? {}, seed);
  const normalisation: Normalisation = { method: s.normalisation === 'none' ? 'none' : 'dtype' };
  const metadata = defaultMetadata(model.config, { normalisation, ...(p.classNames ? { classNames: p.classNames } : {}) });
  const options = { optimizer, schedule, seed };
  return { trainer: new Trainer(model, options), options, metadata, recompute: s.normalisation === 'recompute' };
}

async function startFromParent(p: TrainParams, s: TrainSettings, parentDir: string): Promise<Start> {
  const { optimizer, schedule, seed, freeze } = s;
  const parent = await loadParent(parentDir);
  const classes = p.architecture?.classes ?? parent.model.config.classes;
  const { model, headReplaced } = adaptNetwork(parent.model, classes, seed);
  parent.model.dispose();
  const classNames = p.classNames ?? (headReplaced ? defaultMetadata(model.config).classNames : parent.metadata.classNames);
  const keep = s.normalisation === 'parent';
  const normalisation: Normalisation = keep ? parent.metadata.normalisation : { method: s.normalisation === 'none' ? 'none' : 'dtype' };
  // The parent's model card (bioimage.io export) names its authors and data, not this model's: a new one is written to export it.
  const { inputIntensity, provenance: _parentProvenance, card: _card, ...inherited } = parent.metadata as ModelMetadata & { card?: unknown };
  const metadata: ModelMetadata = {
    ...inherited,
    architecture: model.config,
    classNames,
    normalisation,
    // The parent's intensities hold only while its normalisation does; this run's tiles replace them at the first checkpoint.
    ...(keep && inputIntensity ? { inputIntensity } : {}),
    provenance: { parent: parent.record, freeze, headReplaced },
  };
  const options = { optimizer, schedule, seed, frozen: frozenWeights(model, freeze) };
  const note = `fine-tuning from ${parentDir} (weights sha256 ${parent.record.sha256.slice(0, 16)})${freeze === 'encoder' ? ', contracting path frozen' : ''}${headReplaced ? `, new ${classes}-class final layer` : ''}`;
  return { trainer: new Trainer(model, options), options, metadata, recompute: s.normalisation === 'recompute', note };
}
