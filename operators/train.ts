import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as t from 'io-ts';
import { bufferCount, concatMap, concatWith, defer, finalize, from, ignoreElements, mergeMap, type Observable } from 'rxjs';
import { NonNegativeInt, PositiveInt, PositiveNumber, Probability, oneOf, strict } from '../src/codec/strict.js';
import { toFloat32, type Normalisation } from '../src/image/convert.js';
import { IntensitySampler } from '../src/image/intensity.js';
import { requireChannels, type Image } from '../src/image/image.js';
import { crop, type Rect } from '../src/kernels/mirror.js';
import { backendChoices, useBackend, type BackendChoice, type BackendInfo } from '../src/model/engines/choice.js';
import type { Schedule } from '../src/model/training/optimizer.js';
import { adaptNetwork, checkParent, frozenWeights, loadParent, requireSeparateFolders, type Freeze } from '../src/model/training/finetune.js';
import { heldOutOf, recomputedNormalisation, type HeldOut } from '../src/model/training/finetune-split.js';
import { defaultMetadata, loadModel, saveModel, type ModelMetadata } from '../src/model/store.js';
import { defaultWorkers, openStepRunner, type StepRunner } from '../src/model/engines/tfjs.js';
import { objectF1, predictImage, score, truthObjects } from '../src/model/training/scoring.js';
import { readImage } from '../src/io/read.js';
import { folderQuery, pairsSource } from '../src/io/folders.js';
import { Trainer, type Batch, type TrainerOptions } from '../src/model/training/trainer.js';
import { UNet } from '../src/model/network/unet.js';
import type { Sample } from '../src/sample.js';
import { ConfigError } from '../src/errors.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

const ScheduleCodec = t.union([
  strict('constant schedule', { kind: t.literal('constant') }, { warmup: NonNegativeInt }),
  strict('step schedule', { kind: t.literal('step'), every: PositiveInt, factor: PositiveNumber }, { warmup: NonNegativeInt }),
  strict('exponential schedule', { kind: t.literal('exponential'), decay: PositiveNumber }, { warmup: NonNegativeInt }),
  strict('cosine schedule', { kind: t.literal('cosine'), steps: PositiveInt }, { floor: Probability, warmup: NonNegativeInt }),
]);

export const TrainParams = strict(
  'train parameters',
  { /** Model directory: checkpoints are written here, and training resumes from it when it holds one. */ model: t.string },
  {
    /**
     * Fine-tune: start from this model's weights (a unetflow model folder, or a
     * bioimage.io package unetflow exported; read, never written). The new model's
     * provenance names it and the sha256 of its weights.
     */
    from: t.string,
    /** With `from`: `encoder` keeps the contracting path (every `down` convolution) fixed. @default 'none' */
    freeze: oneOf(['none', 'encoder']),
    /**
     * A new network's architecture (ignored when resuming). With `from`, only `classes`
     * may be given: a new number replaces the final 1x1 layer. @default the paper's (depth 4, 64 filters, 2 classes)
     */
    architecture: strict(
      'architecture',
      {},
      { depth: NonNegativeInt, baseFilters: PositiveInt, classes: PositiveInt, inputChannels: PositiveInt, padding: oneOf(['valid', 'same']), dropout: Probability },
    ),
    /** @default 'sgd' (momentum 0.99, as in the paper); with `from`, 'adam' */
    optimizer: oneOf(['sgd', 'adam']),
    /** @default 0.01 for sgd, 0.001 for adam; with `from`, 0.0003 */
    learningRate: PositiveNumber,
    /** SGD momentum. @default 0.99 */
    momentum: Probability,
    /** Learning-rate schedule. @default constant; with `from`, constant after a 20-step linear warm-up */
    schedule: ScheduleCodec,
    /** Tiles per step. @default 1 (the paper) */
    batchSize: PositiveInt,
    /** Write a checkpoint every this many steps (and always at the end). @default 100 */
    checkpointEvery: PositiveInt,
    /** Class names stored with the model. @default background, foreground (2 classes) */
    classNames: t.array(t.string),
    /**
     * Input normalisation, stored with the model so that `unet` applies the same: `dtype`
     * (the type's range to [0, 1]), `none`, `parent` (the `from` model's), or `recompute`:
     * a fixed range from the 1st and 99.8th percentiles of the first batch's raw tiles.
     * @default 'dtype'; with `from`, 'parent'
     */
    normalisation: oneOf(['none', 'dtype', 'parent', 'recompute']),
    /** tfjs backend. @default 'auto' */
    backend: oneOf(backendChoices),
    /**
     * Worker threads, each with a replica of the network: a batch is split over them
     * (a batch smaller than the workers as bands of rows of its tiles) and their
     * gradients summed — the same step as in one thread. 1 trains in this thread.
     * @default the number of cores on wasm / cpu, 1 on tfjs-node
     */
    workers: PositiveInt,
    /**
     * Bands of rows each tile is cut into and computed one after another (valid
     * networks; exact): bounds memory, e.g. for the paper's 64-filter network on a
     * 572 px tile within the wasm heap's 4 GiB. @default 1
     */
    tileParts: PositiveInt,
    /**
     * Held-out images and labels (folders or globs such as `labels/2[0-4].png`, matched by base name),
     * or without them the parts a `split` step held out, predicted whole with the current
     * weights every `every` steps and after the last: `validation` events with pixel
     * error, foreground IoU, the unweighted loss and (2 classes) object F1.
     */
    validation: strict('validation', { every: PositiveInt }, { images: t.string, labels: t.string }),
  },
);
export type TrainParams = t.TypeOf<typeof TrainParams>;

/**
 * One optimisation step per batch of training tiles. Each sample needs an `image`
 * tile the network accepts and a `label` (class index per pixel; for 2 classes any
 * value > 0 is foreground), optionally `weights` — both at the tile's size or already
 * cropped to the output size. Emits `train-step` events with loss, learning rate and
 * seconds, writes checkpoints atomically (`checkpoint` events), and a final one when
 * the input completes; a model directory holding a checkpoint is resumed. Samples
 * pass through once their step is done. Checkpoints record the intensities of the
 * network input trained on (`inputIntensity`: 1st and 99.8th percentile, mean), those
 * of this run's tiles, so that `unet` can warn about images far from them.
 *
 * With `from`, a new model starts from another one's weights (fine-tuning): the
 * parent (a model folder or an exported bioimage.io package) is only read; `freeze: encoder` keeps its contracting path fixed;
 * `architecture.classes` replaces the final layer; the normalisation is the parent's
 * or recomputed; provenance names the parent and its weights' sha256.
 *
 * @example
 * tiles$.pipe(train({ model: 'models/cells', architecture: { depth: 4, baseFilters: 16 }, checkpointEvery: 500 }, { emit }))
 * tiles$.pipe(train({ from: 'models/isbi2012-em', model: 'models/nuclei', freeze: 'encoder', normalisation: 'recompute' }, { emit }))
 * @see unet
 * @see split
 */
export function train(params: TrainParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('train', TrainParams, params);
  const step = ctx.step ?? 'train';
  const base = ctx.baseDir ?? process.cwd();
  const dir = resolve(base, p.model);
  const parentDir = p.from === undefined ? undefined : resolve(base, p.from);
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
  const schedule: Schedule | undefined = (p.schedule as Schedule | undefined) ?? (parentDir ? { kind: 'constant', warmup: 20 } : undefined);
  const normalisationChoice = p.normalisation ?? (parentDir ? 'parent' : 'dtype');
  const freeze: Freeze = (p.freeze as Freeze | undefined) ?? 'none';
  const every = p.checkpointEvery ?? 100;
  const seed = ctx.seed ?? 0;

  return (source) =>
    defer(async () => {
      const backend = await useBackend(p.backend ?? (ctx.backend as BackendChoice | undefined) ?? 'auto');
      const { trainer, options, metadata, recompute } = await start();
      try {
        const workers = p.workers ?? ctx.workers ?? defaultWorkers(backend);
        const runner = await openStepRunner(trainer, options, backend, workers, p.tileParts ?? 1);
        ctx.emit?.({ type: 'backend', step, name: backend.name, package: backend.package, workers, skipped: backend.skipped, ...(backend.adapter && { adapter: backend.adapter }) });
        return { backend, trainer, runner, metadata, recompute };
      } catch (error) {
        trainer.dispose();
        trainer.model.dispose();
        throw error;
      }
    }).pipe(mergeMap((s) => run(source, s.backend, s.trainer, s.runner, s.metadata, s.recompute)));

  async function start(): Promise<{ trainer: Trainer; options: TrainerOptions; metadata: ModelMetadata; recompute: boolean }> {
    const optimizer = kind === 'sgd' ? { kind, learningRate, momentum: p.momentum ?? 0.99 } : { kind, learningRate };
    if (existsSync(join(dir, 'model.json'))) {
      const loaded = await loadModel(dir);
      const startStep = Number(loaded.metadata.provenance?.step ?? 0);
      // The optimiser state holds the trained weights only: resume with the freeze the checkpoint was made with.
      const recorded = (loaded.metadata.provenance?.freeze as Freeze | undefined) ?? 'none';
      if (p.freeze !== undefined && p.freeze !== recorded) {
        loaded.model.dispose();
        throw new ConfigError(`train: ${dir} was trained with freeze: ${recorded}; resume it with the same, or start a new model folder`);
      }
      const options = { optimizer, schedule, seed, startStep, frozen: frozenWeights(loaded.model, recorded) };
      const trainer = new Trainer(loaded.model, options);
      if (loaded.optimizerState) await trainer.restoreOptimizerState(loaded.optimizerState);
      return { trainer, options, metadata: loaded.metadata, recompute: false };
    }
    if (parentDir) return startFromParent(parentDir, optimizer);
    const model = UNet.create(p.architecture ?? {}, seed);
    const normalisation: Normalisation = { method: normalisationChoice === 'none' ? 'none' : 'dtype' };
    const metadata = defaultMetadata(model.config, { normalisation, ...(p.classNames ? { classNames: p.classNames } : {}) });
    const options = { optimizer, schedule, seed };
    return { trainer: new Trainer(model, options), options, metadata, recompute: normalisationChoice === 'recompute' };
  }

  async function startFromParent(parentDir: string, optimizer: TrainerOptions['optimizer']) {
    const parent = await loadParent(parentDir);
    const classes = p.architecture?.classes ?? parent.model.config.classes;
    const { model, headReplaced } = adaptNetwork(parent.model, classes, seed);
    parent.model.dispose();
    const classNames = p.classNames ?? (headReplaced ? defaultMetadata(model.config).classNames : parent.metadata.classNames);
    const keep = normalisationChoice === 'parent';
    const normalisation: Normalisation = keep ? parent.metadata.normalisation : { method: normalisationChoice === 'none' ? 'none' : 'dtype' };
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
    ctx.emit?.({
      type: 'log',
      level: 'info',
      message: `${step}: fine-tuning from ${parentDir} (weights sha256 ${parent.record.sha256.slice(0, 16)})${freeze === 'encoder' ? ', contracting path frozen' : ''}${headReplaced ? `, new ${classes}-class final layer` : ''}`,
    });
    return { trainer: new Trainer(model, options), options, metadata, recompute: normalisationChoice === 'recompute' };
  }

  function run(source: Observable<Sample>, backend: BackendInfo, trainer: Trainer, runner: StepRunner, initial: ModelMetadata, recompute: boolean): Observable<Sample> {
    const model = trainer.model;
    const { classes, inputChannels } = model.config;
    let metadata = initial;
    let saved = trainer.step;
    let validated = trainer.step;
    const intensity = new IntensitySampler();
    /** Held-out parts recorded by `split`, by file and page. */
    const heldOutParts = new Map<string, HeldOut>();
    ctx.emit?.({ type: 'log', level: 'info', message: `${step}: ${model.parameterCount} parameters on ${runner.description}, from step ${trainer.step}` });

    const checkpoint = async () => {
      if (trainer.step === saved) return;
      const provenance = { ...metadata.provenance, step: trainer.step, seed, backend: backend.package, savedAt: new Date().toISOString() };
      const optimizerState = await runner.sync();
      const inputIntensity = intensity.summary() ?? metadata.inputIntensity;
      await saveModel(dir, model, { ...metadata, provenance, ...(inputIntensity ? { inputIntensity } : {}) }, optimizerState);
      saved = trainer.step;
      ctx.emit?.({ type: 'checkpoint', step: trainer.step, path: dir });
    };

    const held = new Map<string, Promise<ValidationImage>>();
    const heldOut = async (): Promise<ValidationImage[]> => {
      const v = p.validation!;
      if (v.images !== undefined && v.labels !== undefined) return readValidationFolders(v.images, v.labels);
      if (heldOutParts.size === 0) throw new Error('validation without images and labels needs a split step before train (it validates on the parts split holds out)');
      for (const [key, h] of heldOutParts) if (!held.has(key)) held.set(key, readHeldOut(h));
      return Promise.all(held.values());
    };

    let folders: Promise<ValidationImage[]> | undefined;
    const readValidationFolders = (images: string, labels: string) =>
      (folders ??= (async () => {
        const { refs } = await pairsSource(folderQuery(images, base), folderQuery(labels, base));
        if (refs.length === 0) throw new Error(`validation: no image in ${images} has a label of the same name in ${labels}`);
        return Promise.all(refs.map((ref) => readValidationImage(ref.path, ref.labelPath!)));
      })());

    const readHeldOut = (h: HeldOut) => {
      if (!h.labelPath) throw new Error(`validation: ${h.path} has no label file to score its held-out part against (use a pairs source)`);
      return readValidationImage(h.path, h.labelPath, h.page ?? 0, h.region);
    };

    const readValidationImage = async (path: string, labelPath: string, page = 0, region?: Rect): Promise<ValidationImage> => {
      const part = (image: Image) => (region ? crop(image, region) : image);
      const image = toFloat32(part(await readImage(path, page, step)), metadata.normalisation);
      requireChannels(image, inputChannels, `validation image ${path}`);
      const label = part(await readImage(labelPath, page, step));
      requireChannels(label, 1, `validation label ${labelPath}`);
      if (label.width !== image.width || label.height !== image.height) {
        throw new RangeError(`validation label ${labelPath} is ${label.width}x${label.height}, its image ${image.width}x${image.height}`);
      }
      return { id: path, image, labels: classIndices(label.data, classes), objects: classes === 2 ? truthObjects(label) : undefined };
    };

    const validate = async (size: number) => {
      const sizes = model.sizeMap(size);
      let pixelError = 0;
      let iou = 0;
      let loss = 0;
      let f1 = 0;
      const images = await heldOut();
      for (const v of images) {
        const probabilities = await predictImage((x, n, s) => runner.predict(x, n, s), v.image, sizes, classes);
        const scores = score(probabilities, v.labels, classes);
        pixelError += scores.pixelError / images.length;
        iou += scores.iou / images.length;
        loss += scores.loss / images.length;
        if (v.objects) f1 += objectF1(probabilities, v.objects, v.image.width, v.image.height) / images.length;
      }
      validated = trainer.step;
      ctx.emit?.({ type: 'validation', step: trainer.step, pixelError, iou, loss, ...(classes === 2 ? { objectF1: f1 } : {}) });
    };

    const prepare = (sample: Sample): Prepared => {
      requireChannels(sample.image, inputChannels, 'the network input');
      const { width, height } = sample.image;
      if (width !== height) throw new RangeError(`training tiles must be square, got ${width}x${height}`);
      const output = model.sizeMap(width).output;
      if (!sample.label) throw new Error('training needs a label');
      const classIndex = classIndices(centre(sample.label, output, 'label'), classes);
      const weights = sample.weights ? Float32Array.from(centre(sample.weights, output, 'weights')) : undefined;
      const h = heldOutOf(sample.metadata);
      if (h) heldOutParts.set(`${h.path}#${h.page ?? 0}`, h);
      return { sample, image: sample.image, size: width, labels: classIndex, weights };
    };

    let tileSize = 0;
    return source.pipe(
      perSample(step, ctx, prepare),
      bufferCount(p.batchSize ?? 1),
      concatMap(async (batch) => {
        // Stopping: the tiles still queued are random draws, so skipping them loses
        // nothing, and Ctrl-C leaves within one step (then the final checkpoint).
        if (ctx.signal?.aborted) return batch.map((b) => b.sample);
        if (recompute) {
          recompute = false;
          const normalisation = recomputedNormalisation(batch.map((b) => b.image.data));
          metadata = { ...metadata, normalisation };
          ctx.emit?.({ type: 'log', level: 'info', message: `${step}: input normalisation recomputed from the first batch: range ${normalisation.min} to ${normalisation.max}` });
        }
        const inputs = batch.map((b) => {
          const input = toFloat32(b.image, metadata.normalisation).data;
          intensity.add(input);
          return input;
        });
        tileSize = batch[0].size;
        const t0 = performance.now();
        const result = await runner.trainStep(toBatch(batch, inputs));
        ctx.emit?.({ type: 'train-step', step: result.step, loss: result.loss, learningRate: result.learningRate, seconds: (performance.now() - t0) / 1000 });
        if (p.validation && result.step % p.validation.every === 0) await validate(tileSize);
        if (result.step % every === 0) await checkpoint();
        return batch.map((b) => b.sample);
      }),
      concatMap((samples) => from(samples)),
      concatWith(
        defer(async () => {
          if (p.validation && tileSize > 0 && validated !== trainer.step && !ctx.signal?.aborted) await validate(tileSize);
          await checkpoint();
        }).pipe(ignoreElements()),
      ),
      finalize(() => {
        void runner.close();
        trainer.dispose();
        model.dispose();
      }),
    );
  }
}

interface ValidationImage {
  readonly id: string;
  readonly image: Image<'float32'>;
  readonly labels: Int32Array;
  /** Instance ids of the truth (2 classes): the label's own ids, or its connected components for a binary label. */
  readonly objects?: Int32Array;
}

interface Prepared {
  readonly sample: Sample;
  /** The tile as it came, normalised once the batch is formed (`recompute` needs the first batch's raw values). */
  readonly image: Image;
  readonly size: number;
  readonly labels: Int32Array;
  readonly weights?: Float32Array;
}

/** Class index per pixel: for 2 classes any value > 0 is foreground, else the value itself. */
function classIndices(values: ArrayLike<number>, classes: number): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < out.length; i++) {
    const v = values[i];
    if (classes === 2) out[i] = v > 0 ? 1 : 0;
    else if (Number.isInteger(v) && v >= 0 && v < classes) out[i] = v;
    else throw new RangeError(`label value ${v} is not a class index (0 to ${classes - 1})`);
  }
  return out;
}

/** The single-channel values of the centred `size` square of `image` (a tile, or its output part). */
function centre(image: Image, size: number, what: string): ArrayLike<number> {
  requireChannels(image, 1, what);
  if (image.width !== image.height || image.width < size || (image.width - size) % 2 !== 0) {
    throw new RangeError(`${what} is ${image.width}x${image.height}; expected the tile's size or the output size ${size}x${size}`);
  }
  const m = (image.width - size) / 2;
  return m === 0 ? image.data : crop(image, { x: m, y: m, width: size, height: size }).data;
}

function toBatch(batch: Prepared[], inputs: Float32Array[]): Batch {
  const size = batch[0].size;
  if (batch.some((b) => b.size !== size)) throw new RangeError('a batch mixes tile sizes; give every training tile the same size');
  const concat = <A extends Float32Array | Int32Array>(parts: A[], make: (n: number) => A): A => {
    const out = make(parts.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of parts) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  const anyWeights = batch.some((b) => b.weights);
  return {
    count: batch.length,
    inputSize: size,
    images: concat(inputs, (n) => new Float32Array(n)),
    labels: concat(batch.map((b) => b.labels), (n) => new Int32Array(n)),
    weights: anyWeights ? concat(batch.map((b) => b.weights ?? new Float32Array(b.labels.length).fill(1)), (n) => new Float32Array(n)) : undefined,
  };
}

/** `validate`'s and the run's start-up check: the model `from` names is a complete unetflow model folder. */
export async function checkTrain(params: TrainParams, ctx: StepContext = {}): Promise<void> {
  if (params.from !== undefined) await checkParent(resolve(ctx.baseDir ?? process.cwd(), params.from));
}
