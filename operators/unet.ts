import * as t from 'io-ts';
import { bufferCount, concatMap, defer, finalize, from, mergeMap, type Observable } from 'rxjs';
import { resolve } from 'node:path';
import { PositiveInt, oneOf, strict } from '../src/codec/strict.js';
import { SampleError } from '../src/errors.js';
import { toFloat32 } from '../src/image/convert.js';
import { makeImage, requireChannels } from '../src/image/image.js';
import { backendChoices, useBackend, type BackendInfo } from '../src/model/backend.js';
import { predictProbabilities } from '../src/model/predictor.js';
import { loadModel, type LoadedModel } from '../src/model/store.js';
import type { Sample } from '../src/sample.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const UnetParams = strict(
  'unet parameters',
  { /** Model directory (model.json + weights + metadata.json). */ model: t.string },
  {
    /** Tiles per forward pass; tiles of different images share batches. @default 4 */
    batchSize: PositiveInt,
    /** Test-time augmentation, averaged: 'flips' (4 passes) or 'dihedral' (8). @default 'none' */
    tta: oneOf(['none', 'flips', 'dihedral']),
    /** tfjs backend. @default 'auto' */
    backend: oneOf(backendChoices),
  },
);
export type UnetParams = t.TypeOf<typeof UnetParams>;

/**
 * Predicts each tile's class probabilities with a stored U-Net: adds `probabilities`
 * (float32, one channel per class, at the network's output size) for `stitch` to put
 * back together. Tiles of several images are batched together as they arrive; the
 * last, partial batch runs when the input completes. The model loads on subscription
 * and its weights are freed when the stream ends.
 *
 * Inputs are normalised as the model's metadata says, so they can be the tiles of a
 * raw uint8 / uint16 image.
 *
 * @example
 * const g = (await geometryOfModel('models/cells')) as { input: number; output: number }; // a valid model
 * const size = { input: g.input, output: g.output };
 * files$.pipe(load(), mirror(size), tile(size), unet({ model: 'models/cells', tta: 'flips' }), stitch())
 * @see tile
 * @see stitch
 * @param params.model model directory, relative to the step's baseDir
 */
export function unet(params: UnetParams, ctx: StepContext = {}): SampleOperator {
  const p = decodeParams('unet', UnetParams, params);
  const step = ctx.step ?? 'unet';
  const dir = resolve(ctx.baseDir ?? process.cwd(), p.model);
  const batchSize = p.batchSize ?? 4;
  return (source) =>
    defer(async () => {
      const backend = await useBackend(p.backend ?? 'auto');
      return { backend, loaded: await loadModel(dir) };
    }).pipe(
      mergeMap(({ backend, loaded }) => run(source, loaded, backend)),
    );

  function run(source: Observable<Sample>, loaded: LoadedModel, backend: BackendInfo): Observable<Sample> {
    const { model, metadata } = loaded;
    ctx.emit?.({ type: 'log', level: 'info', message: `${step}: ${dir} on ${backend.name} (${backend.package})` });
    const channels = model.config.inputChannels;
    const tta = p.tta ?? 'none';

    // A batch holds tiles of one size; a stream mixing sizes is predicted in runs of equal size.
    const predictBatch = (batch: Prepared[]): Sample[] => {
      const out: Sample[] = [];
      for (let i = 0; i < batch.length; ) {
        let j = i + 1;
        while (j < batch.length && batch[j].size === batch[i].size) j++;
        out.push(...predictRun(batch.slice(i, j)));
        i = j;
      }
      return out;
    };

    const predictRun = (run: Prepared[]): Sample[] => {
      const { size, output: o } = run[0];
      const per = run[0].input.length;
      const images = new Float32Array(per * run.length);
      run.forEach((r, i) => images.set(r.input, i * per));
      let probabilities: Float32Array;
      try {
        probabilities = predictProbabilities(model, images, run.length, size, tta);
      } catch (error) {
        // The whole run failed: each of its tiles is reported (or the stream errors).
        for (const r of run) {
          const wrapped = SampleError.wrap({ step, file: r.sample.source.path, sample: r.sample.id }, error);
          if (!ctx.onSampleError) throw wrapped;
          ctx.onSampleError(wrapped);
        }
        return [];
      }
      const k = model.config.classes;
      const n = o * o * k;
      return run.map((r, i) => ({ ...r.sample, probabilities: makeImage(o, o, k, 'float32', probabilities.slice(i * n, (i + 1) * n)) }));
    };

    return source.pipe(
      // Checked one by one, so that a bad tile fails alone rather than its whole batch.
      perSample(step, ctx, (sample: Sample): Prepared => {
        requireChannels(sample.image, channels, 'the network input');
        const { width, height } = sample.image;
        if (width !== height) throw new RangeError(`tiles must be square, got ${width}x${height} — tile the image with the model's geometry first`);
        const output = model.sizeMap(width).output;
        return { sample, input: toFloat32(sample.image, metadata.normalisation).data, size: width, output };
      }),
      bufferCount(batchSize),
      // One batch at a time: a tfjs backend runs one computation at a time anyway.
      concatMap((batch) => from(predictBatch(batch))),
      finalize(() => model.dispose()),
    );
  }
}

interface Prepared {
  readonly sample: Sample;
  readonly input: Float32Array;
  readonly size: number;
  readonly output: number;
}
