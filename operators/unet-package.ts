/**
 * `unet` with a bioimage.io package (folder or zip) as its model: each tile is
 * preprocessed as the package says, with statistics taken from the whole image it was
 * cut from (so that tiling does not change what the network sees), run in ONNX Runtime
 * in batches, postprocessed, and its halo cropped, leaving `probabilities` (one channel
 * per output channel) at the tile geometry's output size for `stitch`.
 */
import { availableParallelism } from 'node:os';
import { bufferCount, concatMap, from, mergeMap, type Observable } from 'rxjs';
import { ConfigError, SampleError } from '../src/errors.js';
import { makeImage, requireChannels } from '../src/image/image.js';
import { keep, sizeGrid, validInputs, type SizeGrid } from '../src/model/bioimageio/axes.js';
import { cropTile, transpose } from '../src/model/bioimageio/layout.js';
import { openPackage } from '../src/model/bioimageio/package.js';
import { applyProcessing, prepareProcessing, type NamedTensor, type Transform } from '../src/model/bioimageio/processing.js';
import { axisId, tensorId } from '../src/model/bioimageio/rdf.js';
import { openPackageSession, type PackageSession } from '../src/model/bioimageio/session.js';
import type { Sample } from '../src/sample.js';
import { releaseTile, whileWorkingOn } from '../src/tile-budget.js';
import { modelOperator } from './model-operator.js';
import { perSample, type SampleOperator, type StepContext } from './step.js';
import type { UnetParams } from './unet.js';

export function unetPackage(p: UnetParams, path: string, ctx: StepContext = {}): SampleOperator {
  const step = ctx.step ?? 'unet';
  if ((p.tta ?? 'none') !== 'none') throw new ConfigError(`${step}: tta is not available for bioimage.io packages (their axes need not allow flips); remove it`);
  const backend = p.backend ?? ctx.backend;
  if (backend !== undefined && backend !== 'auto' && backend !== 'onnxruntime') {
    throw new ConfigError(`${step}: a bioimage.io package runs on onnxruntime, not ${backend}`);
  }
  const batchSize = p.batchSize ?? 4;
  let announced = false; // the backend and model lines come once, however often the package is reopened after idle periods
  return modelOperator(step, path, open, (loaded) => loaded?.session.release(), p.keepSeconds ?? 2, run);

  async function open(): Promise<Loaded> {
    const pkg = openPackage(path);
    const grid = sizeGrid(pkg.rdf, pkg.where);
    const threads = p.workers ?? ctx.workers ?? availableParallelism();
    const session = await openPackageSession(pkg, threads);
    if (!announced) {
      announced = true;
      ctx.emit?.({ type: 'backend', step, name: 'onnxruntime', package: 'onnxruntime-node', workers: threads, skipped: [] });
      ctx.emit?.({ type: 'log', level: 'info', message: `${step}: model ${path} (bioimage.io package '${pkg.rdf.name}')` });
    }
    const id = (type: string, axes: readonly { type: string }[], fallback: string) => {
      const axis = axes.find((a) => a.type === type);
      return axis ? axisId(axis as never) : fallback;
    };
    const inputNhwc = [id('batch', session.input.axes, 'batch'), 'y', 'x', id('channel', session.input.axes, 'channel')];
    const outputNhwc = [id('batch', session.output.axes, 'batch'), 'y', 'x', id('channel', session.output.axes, 'channel')];
    const channels = session.input.axes.find((a) => a.type === 'channel')?.channel_names?.length ?? 1;
    const batched = session.input.axes.some((a) => a.type === 'batch' && a.size !== 1);
    return { session, grid, inputNhwc, outputNhwc, channels, batched, prepared: new WeakMap() };
  }

  function run(source: Observable<Sample>, loaded: Loaded): Observable<Sample> {
    const { session, grid } = loaded;
    const inputName = `${session.pkg.where}: ${tensorId(session.input, 'input')}.preprocessing`;
    const outputName = `${session.pkg.where}: ${tensorId(session.output, 'output')}.postprocessing`;
    const nhwc = (data: Float32Array, count: number, size: number, c: number, axes: readonly string[]): NamedTensor => ({ data, shape: [count, size, size, c], axes });

    /** The image's preprocessing, its statistics from the whole image the tile was cut from (computed once per image). */
    const preprocessing = (sample: Sample): Transform => {
      const whole = sample.tile?.parent ?? sample;
      let f = loaded.prepared.get(whole);
      if (!f) {
        const { width, height, channels, data } = whole.image;
        const reference = { data: Float32Array.from(data), shape: [1, height, width, channels], axes: loaded.inputNhwc };
        f = prepareProcessing(session.input.preprocessing ?? [], reference, inputName);
        loaded.prepared.set(whole, f);
      }
      return f;
    };

    const predict = async (tiles: Prepared[]): Promise<Sample[]> => {
      const { size } = tiles[0];
      const c = loaded.channels;
      const per = size * size * c;
      const batch = new Float32Array(per * tiles.length);
      tiles.forEach((t, i) => batch.set(t.input, i * per));
      const y = transpose(await session.run(transpose(nhwc(batch, tiles.length, size, c, loaded.inputNhwc), session.inputAxes)), loaded.outputNhwc);
      const [, out, , k] = y.shape;
      return tiles.map((t, i) => {
        const one = applyProcessing(session.output.postprocessing ?? [], nhwc(y.data.slice(i * out * out * k, (i + 1) * out * out * k), 1, out, k, loaded.outputNhwc), outputName);
        const kept = out - 2 * grid.halo;
        return { ...t.sample, probabilities: makeImage(kept, kept, k, 'float32', cropTile(one.data, out, k, grid.halo)) };
      });
    };

    const predictRun = async (run: Prepared[]): Promise<Sample[]> => {
      try {
        return await whileWorkingOn(run.map((r) => r.sample), async () => {
          if (loaded.batched) return predict(run);
          const out: Sample[] = [];
          for (const r of run) out.push(...(await predict([r])));
          return out;
        });
      } catch (error) {
        for (const r of run) {
          releaseTile(r.sample);
          const wrapped = SampleError.wrap({ step, file: r.sample.source.path, sample: r.sample.id }, error);
          if (!ctx.onSampleError) throw wrapped;
          ctx.onSampleError(wrapped);
        }
        return [];
      }
    };

    const predictBatch = async (batch: Prepared[]): Promise<Sample[]> => {
      const out: Sample[] = [];
      for (let i = 0; i < batch.length; ) {
        let j = i + 1;
        while (j < batch.length && batch[j].size === batch[i].size) j++;
        out.push(...(await predictRun(batch.slice(i, j))));
        i = j;
      }
      return out;
    };

    return source.pipe(
      perSample(step, ctx, (sample: Sample): Prepared => {
        requireChannels(sample.image, loaded.channels, 'the network input');
        const { width, height } = sample.image;
        if (width !== height) throw new RangeError(`tiles must be square, got ${width}x${height} — tile the image with the model's geometry first`);
        if (!onGrid(grid, width)) throw new RangeError(`the package takes tiles of ${grid.step ? `${grid.min} + n * ${grid.step}` : grid.min} px, got ${width} (e.g. ${validInputs(grid, Math.max(width, grid.min) + grid.step).slice(-2).join(' or ')})`);
        const input = preprocessing(sample)(nhwc(Float32Array.from(sample.image.data), 1, width, loaded.channels, loaded.inputNhwc)).data;
        return { sample, input, size: width, output: keep(grid, width) };
      }),
      bufferCount(batchSize),
      concatMap((batch) => from(predictBatch(batch)).pipe(mergeMap((samples) => from(samples)))),
    );
  }
}

function onGrid(grid: SizeGrid, size: number): boolean {
  return size >= grid.min && (grid.step === 0 ? size === grid.min : (size - grid.min) % grid.step === 0);
}

interface Loaded {
  readonly session: PackageSession;
  readonly grid: SizeGrid;
  /** The input's and output's axis ids in unetflow's tile order (batch, y, x, channel). */
  readonly inputNhwc: readonly string[];
  readonly outputNhwc: readonly string[];
  readonly channels: number;
  /** Whether tiles can share a forward pass (a batch axis not fixed to 1). */
  readonly batched: boolean;
  /** Each image's preprocessing, by the image's sample. */
  readonly prepared: WeakMap<Sample, Transform>;
}

interface Prepared {
  readonly sample: Sample;
  readonly input: Float32Array;
  readonly size: number;
  readonly output: number;
}
