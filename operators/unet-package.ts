/**
 * `unet` with a bioimage.io package (folder or zip) as its model: each tile is
 * preprocessed as the package says, with statistics taken from the whole image it was
 * cut from (so that tiling does not change what the network sees), run in ONNX Runtime
 * in batches shared across files (inference/batcher.ts, as native models are),
 * postprocessed, and its halo cropped (bioimageio/predictor.ts), leaving
 * `probabilities` (one channel per output channel) at the tile geometry's output size
 * for `stitch`.
 */
import type { Observable } from 'rxjs';
import { ConfigError } from '../src/errors.js';
import { requireChannels } from '../src/image/image.js';
import { defaultThreads, packageBackendRefusal, usePackageBackend } from '../src/model/engines/choice.js';
import type { BackendInfo, InferenceBackendChoice, Predictor } from '../src/model/engines/engine.js';
import { TileBatcher } from '../src/model/inference/batcher.js';
import { keep, sizeGrid, validInputs, type SizeGrid } from '../src/model/bioimageio/axes.js';
import { openPackage } from '../src/model/bioimageio/package.js';
import { nhwc, openPackagePredictor, packageLayout, type PackageLayout } from '../src/model/bioimageio/predictor.js';
import { prepareProcessing, type Transform } from '../src/model/bioimageio/processing.js';
import { tensorId } from '../src/model/bioimageio/rdf.js';
import { openPackageSession, type PackageSession } from '../src/model/bioimageio/session.js';
import type { Sample } from '../src/sample.js';
import { whileWorkingOn } from '../src/tile-budget.js';
import { modelOperator, throughBatcher, type Opened } from './model-operator.js';
import { perSample, type SampleOperator, type StepContext } from './step.js';

/** The `unet` parameters a package uses (unet.ts's UnetParams). */
export interface PackageParams {
  readonly batchSize?: number;
  readonly tta?: string;
  readonly backend?: InferenceBackendChoice;
  readonly workers?: number;
  readonly keepSeconds?: number;
}

export function unetPackage(p: PackageParams, path: string, ctx: StepContext = {}): SampleOperator {
  const step = ctx.step ?? 'unet';
  if ((p.tta ?? 'none') !== 'none') throw new ConfigError(`${step}: tta is not available for bioimage.io packages (their axes need not allow flips); remove it`);
  const choice = p.backend ?? ctx.backend;
  const refusal = packageBackendRefusal(choice);
  if (refusal) throw new ConfigError(`${step}: ${refusal}`);
  const batchSize = p.batchSize ?? 4;
  return modelOperator(step, ctx, path, open, (loaded) => loaded?.predictor.close(), p.keepSeconds ?? 2, run);

  async function open(): Promise<Loaded> {
    const pkg = openPackage(path);
    const grid = sizeGrid(pkg.rdf, pkg.where);
    const threads = p.workers ?? ctx.workers ?? defaultThreads({ engine: 'onnxruntime' });
    let backend: BackendInfo | undefined;
    // The runtime is loaded once the package's weights are found, so that a package without ONNX weights says so first.
    const session = await openPackageSession(pkg, threads, async () => {
      const loaded = await usePackageBackend(pkg.where, choice);
      backend = loaded.info;
      return loaded.onnxruntime;
    });
    const layout = packageLayout(session);
    const predictor = openPackagePredictor(session, grid, layout, threads);
    const batcher = new TileBatcher(predictor, batchSize, 'none', undefined, (tiles, work) => whileWorkingOn(tiles.map((t) => t.owner), work));
    return { backend: backend!, workers: threads, note: ` (bioimage.io package '${pkg.rdf.name}')`, session, predictor, batcher, grid, layout, prepared: new WeakMap() };
  }

  function run(source: Observable<Sample>, loaded: Loaded): Observable<Sample> {
    const { session, grid, layout, batcher } = loaded;
    const inputName = `${session.pkg.where}: ${tensorId(session.input, 'input')}.preprocessing`;

    /** The image's preprocessing, its statistics from the whole image the tile was cut from (computed once per image). */
    const preprocessing = (sample: Sample): Transform => {
      const whole = sample.tile?.parent ?? sample;
      let f = loaded.prepared.get(whole);
      if (!f) {
        const { width, height, channels, data } = whole.image;
        const reference = { data: Float32Array.from(data), shape: [1, height, width, channels], axes: layout.inputNhwc };
        f = prepareProcessing(session.input.preprocessing ?? [], reference, inputName);
        loaded.prepared.set(whole, f);
      }
      return f;
    };

    return source.pipe(
      perSample(step, ctx, (sample: Sample) => {
        requireChannels(sample.image, layout.channels, 'the network input');
        const { width, height } = sample.image;
        if (width !== height) throw new RangeError(`tiles must be square, got ${width}x${height} — tile the image with the model's geometry first`);
        if (!onGrid(grid, width)) throw new RangeError(`the package takes tiles of ${grid.step ? `${grid.min} + n * ${grid.step}` : grid.min} px, got ${width} (e.g. ${validInputs(grid, Math.max(width, grid.min) + grid.step).slice(-2).join(' or ')})`);
        const input = preprocessing(sample)(nhwc(Float32Array.from(sample.image.data), 1, width, layout.channels, layout.inputNhwc)).data;
        return { sample, input: () => input, size: width, output: keep(grid, width) };
      }),
      throughBatcher(step, ctx, batcher),
    );
  }
}

function onGrid(grid: SizeGrid, size: number): boolean {
  return size >= grid.min && (grid.step === 0 ? size === grid.min : (size - grid.min) % grid.step === 0);
}

interface Loaded extends Opened {
  readonly session: PackageSession;
  readonly predictor: Predictor;
  readonly batcher: TileBatcher;
  readonly grid: SizeGrid;
  readonly layout: PackageLayout;
  /** Each image's preprocessing, by the image's sample. */
  readonly prepared: WeakMap<Sample, Transform>;
}
