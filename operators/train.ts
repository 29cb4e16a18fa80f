import { resolve } from 'node:path';
import { bufferCount, concatMap, concatWith, defer, finalize, from, ignoreElements, mergeMap, type Observable } from 'rxjs';
import { toFloat32 } from '../src/image/convert.js';
import { IntensitySampler } from '../src/image/intensity.js';
import { defaultThreads, openTrainingRunner, useInferenceBackend, type BackendInfo, type StepRunner } from '../src/model/engines/choice.js';
import { backendEvent } from '../src/model/engines/report.js';
import { saveModel } from '../src/model/store.js';
import { toBatch, trainingTile, type TrainingTile } from '../src/model/training/batch.js';
import { checkParent } from '../src/model/training/finetune.js';
import { recomputedNormalisation } from '../src/model/training/finetune-split.js';
import { trainSettings } from '../src/model/training/options.js';
import { TrainParams } from '../src/model/training/params.js';
import { startTraining, type Start } from '../src/model/training/start.js';
import { Validation } from '../src/model/training/validation.js';
import type { Sample } from '../src/sample.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export { TrainParams };

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
  const settings = trainSettings(p, resolve(base, p.model), p.from === undefined ? undefined : resolve(base, p.from), ctx.seed ?? 0);

  return (source) =>
    defer(async () => {
      // Where inference would run: a GPU engine, else ONNX Runtime, else tfjs (choice.ts).
      const chosen = await useInferenceBackend(p.backend ?? ctx.backend ?? 'auto');
      const backend = chosen.info;
      const start = await startTraining(p, settings);
      if (start.note) ctx.emit?.({ type: 'log', level: 'info', message: `${step}: ${start.note}` });
      try {
        const workers = p.workers ?? ctx.workers ?? defaultThreads(backend);
        const runner = await openTrainingRunner(start.trainer, start.options, chosen, workers, p.tileParts ?? 1, settings.dir);
        ctx.emit?.(backendEvent(step, backend, workers));
        return { backend, start, runner };
      } catch (error) {
        start.trainer.dispose();
        start.trainer.model.dispose();
        throw error;
      }
    }).pipe(mergeMap((s) => run(source, s.backend, s.start, s.runner)));

  function run(source: Observable<Sample>, backend: BackendInfo, start: Start, runner: StepRunner): Observable<Sample> {
    const { trainer } = start;
    const model = trainer.model;
    const { classes, inputChannels } = model.config;
    const { dir, seed, every } = settings;
    let { metadata, recompute } = start;
    let saved = trainer.step;
    let validated = trainer.step;
    const intensity = new IntensitySampler();
    const validation = new Validation({ ...p.validation, baseDir: base, step, inputChannels, classes, normalisation: () => metadata.normalisation });
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

    const validate = async (size: number) => {
      const scores = await validation.score((x, n, s) => runner.predict(x, n, s), model.sizeMap(size));
      validated = trainer.step;
      ctx.emit?.({ type: 'validation', step: trainer.step, ...scores });
    };

    const prepare = (sample: Sample): TrainingTile => {
      const tile = trainingTile(sample, inputChannels, classes, (size) => model.sizeMap(size).output);
      validation.note(sample.metadata);
      return tile;
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

/** `validate`'s and the run's start-up check: the model `from` names is a complete unetflow model folder. */
export async function checkTrain(params: TrainParams, ctx: StepContext = {}): Promise<void> {
  if (params.from !== undefined) await checkParent(resolve(ctx.baseDir ?? process.cwd(), params.from));
}
