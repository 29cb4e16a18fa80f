import * as t from 'io-ts';
import type { Observable } from 'rxjs';
import { resolve } from 'node:path';
import { NonNegativeNumber, PositiveInt, oneOf, closedObject } from '../src/codec/building-blocks.js';
import { toFloat32 } from '../src/image/convert.js';
import { requireChannels } from '../src/image/image.js';
import { inferenceBackendChoices } from '../src/model/engines/choice.js';
import { nodeEngine } from '../src/host/node/engine.js';
import type { Predictor } from '../src/model/engines/engine.js';
import { checkModelDir, type ModelMetadata } from '../src/model/store.js';
import type { UNetConfig } from '../src/model/network/unet.js';
import { sizeMap } from '../src/model/network/geometry.js';
import { TileBatcher } from '../src/model/inference/batcher.js';
import type { Sample } from '../src/sample.js';
import { intensityWarnings } from './intensity-warning.js';
import { isPackage } from '../src/model/bioimageio/package.js';
import { checkRunnablePackage } from '../src/model/bioimageio/runnable.js';
import { unetPackage } from './unet-package.js';
import { whileWorkingOn } from '../src/tile-budget.js';
import { modelOperator, throughBatcher, type Opened } from './model-operator.js';
import { decodeParams, perSample, type SampleOperator, type StepContext } from './step.js';

export const UnetParams = closedObject(
  'unet parameters',
  { /** Model directory (model.json + weights + metadata.json), or a bioimage.io package (folder or zip). */ model: t.string },
  {
    /**
     * Tiles per forward pass at most. Tiles of one size from any of the files in flight
     * share a pass (those that arrive together, or while the previous pass runs); a
     * failing pass is retried file by file, so one file's failure is its own. @default 4
     */
    batchSize: PositiveInt,
    /** Test-time augmentation, averaged: 'flips' (4 passes) or 'dihedral' (8). @default 'none' */
    tta: oneOf(['none', 'flips', 'dihedral']),
    /**
     * `onnxruntime` (ONNX Runtime's CPU provider, when onnxruntime-node is installed) or a
     * tfjs backend; `auto` takes tfjs-node-gpu, then ONNX Runtime, then tfjs's `auto`.
     * @default 'auto'
     */
    backend: oneOf(inferenceBackendChoices),
    /**
     * Worker threads, each with its own backend and copy of the model; 1 runs in this
     * thread. Batches are spread over them (a lone tile as bands of rows). On ONNX
     * Runtime: the threads of its one in-process session.
     * @default the number of cores on ONNX Runtime, wasm and cpu; 1 on tfjs-node
     */
    workers: PositiveInt,
    /** Seconds the loaded model is kept after the last subscription ends, for the next one. @default 2 */
    keepSeconds: NonNegativeNumber,
  },
);
export type UnetParams = t.TypeOf<typeof UnetParams>;

/**
 * Predicts each tile's class probabilities with a stored U-Net: adds `probabilities`
 * (float32, one channel per class, at the network's output size) for `stitch` to put
 * back together. Tiles of equal size are batched together as they arrive, across the
 * files the pipeline has in flight (src/model/inference/batcher.ts); a pass never waits for a
 * batch to fill. The model loads once per operator
 * instance, on first subscription, and is shared by later and concurrent subscriptions
 * (a pipeline subscribes once per input file); it is freed `keepSeconds` after the last
 * one ends.
 *
 * Inputs are normalised as the model's metadata says, so they can be the tiles of a
 * raw uint8 / uint16 image. An image whose normalised intensities are far from those
 * the model was trained on (when its metadata records them) gets a `log` warning.
 * The `backend` event and the model's log line come once per operator instance
 * (model-operator.ts), however often the model is reloaded after idle periods.
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
  if (isPackage(dir)) return unetPackage(p, dir, ctx);
  const batchSize = p.batchSize ?? 4;
  const checkIntensity = intensityWarnings(step, ctx.emit);
  return modelOperator(step, ctx, dir, open, (loaded) => loaded?.predictor.close(), p.keepSeconds ?? 2, run);

  async function open(): Promise<Loaded> {
    const { predictor, backend, workers, metadata, config } = await (ctx.engine ?? nodeEngine).open(dir, p.backend ?? ctx.backend ?? 'auto', p.workers ?? ctx.workers);
    const outputValues = (size: number) => sizeMap(size, config).output ** 2 * config.classes;
    const batcher = new TileBatcher(predictor, batchSize, p.tta ?? 'none', outputValues, (tiles, work) => whileWorkingOn(tiles.map((t) => t.owner), work));
    return { backend, workers, predictor, batcher, metadata, config, sizeMap: (input: number) => sizeMap(input, config) };
  }

  function run(source: Observable<Sample>, loaded: Loaded): Observable<Sample> {
    const { batcher, metadata, config } = loaded;
    const channels = config.inputChannels;
    return source.pipe(
      // Checked one by one, so that a bad tile fails alone.
      perSample(step, ctx, (sample: Sample) => {
        requireChannels(sample.image, channels, 'the network input');
        const { width, height } = sample.image;
        if (width !== height) throw new RangeError(`tiles must be square, got ${width}x${height} — tile the image with the model's geometry first`);
        const output = loaded.sizeMap(width).output;
        checkIntensity(sample, metadata);
        return { sample, input: () => toFloat32(sample.image, metadata.normalisation).data, size: width, output };
      }),
      throughBatcher(step, ctx, batcher),
    );
  }
}

interface Loaded extends Opened {
  readonly predictor: Predictor;
  readonly batcher: TileBatcher;
  readonly metadata: ModelMetadata;
  readonly config: UNetConfig;
  readonly sizeMap: (input: number) => { input: number; output: number };
}

/** What `validate` and run start-up check: the model folder loads (files present, sizes and checksums right). */
export async function checkUnet(params: UnetParams, ctx: StepContext = {}): Promise<void> {
  const dir = resolve(ctx.baseDir ?? process.cwd(), params.model);
  if (isPackage(dir)) return checkRunnablePackage(dir);
  await checkModelDir(dir);
}
