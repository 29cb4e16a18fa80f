import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as t from 'io-ts';
import { bufferCount, concatMap, concatWith, defer, finalize, from, ignoreElements, mergeMap, type Observable } from 'rxjs';
import { NonNegativeInt, PositiveInt, PositiveNumber, Probability, oneOf, strict } from '../src/codec/strict.js';
import { toFloat32, type Normalisation } from '../src/image/convert.js';
import { IntensitySampler } from '../src/image/intensity.js';
import { requireChannels, type Image } from '../src/image/image.js';
import { crop } from '../src/kernels/mirror.js';
import { backendChoices, useBackend, type BackendChoice, type BackendInfo } from '../src/model/backend.js';
import type { Schedule } from '../src/model/optimizer.js';
import { defaultMetadata, loadModel, saveModel, type ModelMetadata } from '../src/model/store.js';
import { defaultWorkers, openStepRunner, type StepRunner } from '../src/model/runner.js';
import { predictImage, score } from '../src/model/validate.js';
import { readImage } from '../src/io/read.js';
import { folderQuery, pairsSource } from '../src/io/folders.js';
import { Trainer, type Batch, type TrainerOptions } from '../src/model/trainer.js';
import { UNet } from '../src/model/unet.js';
import type { Sample } from '../src/sample.js';
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
    /** A new network's architecture (ignored when resuming). @default the paper's (depth 4, 64 filters, 2 classes) */
    architecture: strict(
      'architecture',
      {},
      { depth: NonNegativeInt, baseFilters: PositiveInt, classes: PositiveInt, inputChannels: PositiveInt, padding: oneOf(['valid', 'same']), dropout: Probability },
    ),
    /** @default 'sgd' (momentum 0.99, as in the paper) */
    optimizer: oneOf(['sgd', 'adam']),
    /** @default 0.01 for sgd, 0.001 for adam */
    learningRate: PositiveNumber,
    /** SGD momentum. @default 0.99 */
    momentum: Probability,
    /** Learning-rate schedule. @default constant */
    schedule: ScheduleCodec,
    /** Tiles per step. @default 1 (the paper) */
    batchSize: PositiveInt,
    /** Write a checkpoint every this many steps (and always at the end). @default 100 */
    checkpointEvery: PositiveInt,
    /** Class names stored with the model. @default background, foreground (2 classes) */
    classNames: t.array(t.string),
    /** Input normalisation, stored with the model so that `unet` applies the same. @default dtype range to [0, 1] */
    normalisation: oneOf(['none', 'dtype']),
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
     * predicted whole with the current weights every `every` steps: `validation` events
     * with pixel error, foreground IoU and the unweighted loss.
     */
    validation: strict('validation', { images: t.string, labels: t.string, every: PositiveInt }, {}),
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
 * @example
 * tiles$.pipe(train({ model: 'models/cells', architecture: { depth: 4, baseFilters: 16 }, checkpointEvery: 500 }, { emit }))
 * @see unet
 */
export function train(params: TrainParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('train', TrainParams, params);
  const step = ctx.step ?? 'train';
  const dir = resolve(ctx.baseDir ?? process.cwd(), p.model);
  const kind = p.optimizer ?? 'sgd';
  const learningRate = p.learningRate ?? (kind === 'sgd' ? 0.01 : 0.001);
  const normalisation: Normalisation = { method: p.normalisation ?? 'dtype' };
  const every = p.checkpointEvery ?? 100;
  const seed = ctx.seed ?? 0;

  return (source) =>
    defer(async () => {
      const backend = await useBackend(p.backend ?? (ctx.backend as BackendChoice | undefined) ?? 'auto');
      const { trainer, options, metadata } = await start();
      try {
        const workers = p.workers ?? ctx.workers ?? defaultWorkers(backend);
        const runner = await openStepRunner(trainer, options, backend, workers, p.tileParts ?? 1);
        ctx.emit?.({ type: 'backend', step, name: backend.name, package: backend.package, workers, skipped: backend.skipped, ...(backend.adapter && { adapter: backend.adapter }) });
        return { backend, trainer, runner, metadata };
      } catch (error) {
        trainer.dispose();
        trainer.model.dispose();
        throw error;
      }
    }).pipe(mergeMap((s) => run(source, s.backend, s.trainer, s.runner, s.metadata)));

  async function start(): Promise<{ trainer: Trainer; options: TrainerOptions; metadata: ModelMetadata }> {
    const optimizer = kind === 'sgd' ? { kind, learningRate, momentum: p.momentum ?? 0.99 } : { kind, learningRate };
    const schedule = p.schedule as Schedule | undefined;
    if (existsSync(join(dir, 'model.json'))) {
      const loaded = await loadModel(dir);
      const startStep = Number(loaded.metadata.provenance?.step ?? 0);
      const options = { optimizer, schedule, seed, startStep };
      const trainer = new Trainer(loaded.model, options);
      if (loaded.optimizerState) await trainer.restoreOptimizerState(loaded.optimizerState);
      return { trainer, options, metadata: loaded.metadata };
    }
    const model = UNet.create(p.architecture ?? {}, seed);
    const metadata = defaultMetadata(model.config, { normalisation, ...(p.classNames ? { classNames: p.classNames } : {}) });
    const options = { optimizer, schedule, seed };
    return { trainer: new Trainer(model, options), options, metadata };
  }

  function run(source: Observable<Sample>, backend: BackendInfo, trainer: Trainer, runner: StepRunner, metadata: ModelMetadata): Observable<Sample> {
    const model = trainer.model;
    const { classes, inputChannels } = model.config;
    let saved = trainer.step;
    const intensity = new IntensitySampler();
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

    let held: Promise<{ id: string; image: Image<'float32'>; labels: Int32Array }[]> | undefined;
    const heldOut = () =>
      (held ??= (async () => {
        const v = p.validation!;
        const base = ctx.baseDir ?? process.cwd();
        const { refs } = await pairsSource(folderQuery(v.images, base), folderQuery(v.labels, base));
        if (refs.length === 0) throw new Error(`validation: no image in ${v.images} has a label of the same name in ${v.labels}`);
        return Promise.all(
          refs.map(async (ref) => {
            const image = toFloat32(await readImage(ref.path, 0, step), metadata.normalisation);
            requireChannels(image, inputChannels, `validation image ${ref.path}`);
            const label = await readImage(ref.labelPath!, 0, step);
            requireChannels(label, 1, `validation label ${ref.labelPath}`);
            if (label.width !== image.width || label.height !== image.height) {
              throw new RangeError(`validation label ${ref.labelPath} is ${label.width}x${label.height}, its image ${image.width}x${image.height}`);
            }
            return { id: ref.path, image, labels: classIndices(label.data, classes) };
          }),
        );
      })());

    const validate = async (size: number) => {
      const sizes = model.sizeMap(size);
      let pixelError = 0;
      let iou = 0;
      let loss = 0;
      const images = await heldOut();
      for (const v of images) {
        const probabilities = await predictImage((x, n, s) => runner.predict(x, n, s), v.image, sizes, classes);
        const scores = score(probabilities, v.labels, classes);
        pixelError += scores.pixelError / images.length;
        iou += scores.iou / images.length;
        loss += scores.loss / images.length;
      }
      ctx.emit?.({ type: 'validation', step: trainer.step, pixelError, iou, loss });
    };

    const prepare = (sample: Sample): Prepared => {
      requireChannels(sample.image, inputChannels, 'the network input');
      const { width, height } = sample.image;
      if (width !== height) throw new RangeError(`training tiles must be square, got ${width}x${height}`);
      const output = model.sizeMap(width).output;
      if (!sample.label) throw new Error('training needs a label');
      const classIndex = classIndices(centre(sample.label, output, 'label'), classes);
      const weights = sample.weights ? Float32Array.from(centre(sample.weights, output, 'weights')) : undefined;
      const input = toFloat32(sample.image, metadata.normalisation).data;
      intensity.add(input);
      return { sample, input, size: width, labels: classIndex, weights };
    };

    return source.pipe(
      perSample(step, ctx, prepare),
      bufferCount(p.batchSize ?? 1),
      concatMap(async (batch) => {
        // Stopping: the tiles still queued are random draws, so skipping them loses
        // nothing, and Ctrl-C leaves within one step (then the final checkpoint).
        if (ctx.signal?.aborted) return batch.map((b) => b.sample);
        const t0 = performance.now();
        const result = await runner.trainStep(toBatch(batch));
        ctx.emit?.({ type: 'train-step', step: result.step, loss: result.loss, learningRate: result.learningRate, seconds: (performance.now() - t0) / 1000 });
        if (p.validation && result.step % p.validation.every === 0) await validate(batch[0].size);
        if (result.step % every === 0) await checkpoint();
        return batch.map((b) => b.sample);
      }),
      concatMap((samples) => from(samples)),
      concatWith(defer(() => from(checkpoint()).pipe(ignoreElements()))),
      finalize(() => {
        void runner.close();
        trainer.dispose();
        model.dispose();
      }),
    );
  }
}

interface Prepared {
  readonly sample: Sample;
  readonly input: Float32Array;
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

function toBatch(batch: Prepared[]): Batch {
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
    images: concat(batch.map((b) => b.input), (n) => new Float32Array(n)),
    labels: concat(batch.map((b) => b.labels), (n) => new Int32Array(n)),
    weights: anyWeights ? concat(batch.map((b) => b.weights ?? new Float32Array(b.labels.length).fill(1)), (n) => new Float32Array(n)) : undefined,
  };
}
