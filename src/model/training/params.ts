/**
 * The parameters of a `train` step (operators/train.ts): what a pipeline may say about
 * training, checked when the step is created.
 */
import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt, PositiveNumber, Probability, oneOf, closedObject } from '../../codec/building-blocks.js';
import { inferenceBackendChoices } from '../engines/engine.js';
import { UNetArchitecture } from '../network/config.js';

const ScheduleCodec = t.union([
  closedObject('constant schedule', { kind: t.literal('constant') }, { warmup: NonNegativeInt }),
  closedObject('step schedule', { kind: t.literal('step'), every: PositiveInt, factor: PositiveNumber }, { warmup: NonNegativeInt }),
  closedObject('exponential schedule', { kind: t.literal('exponential'), decay: PositiveNumber }, { warmup: NonNegativeInt }),
  closedObject('cosine schedule', { kind: t.literal('cosine'), steps: PositiveInt }, { floor: Probability, warmup: NonNegativeInt }),
]);

export const TrainParams = closedObject(
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
    architecture: UNetArchitecture,
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
    /**
     * Where the steps run (engines/choice.ts): `auto` takes a GPU engine, else ONNX
     * Runtime (the whole step as one graph), else tfjs-wasm; `onnxruntime` or a tfjs
     * engine by name. @default 'auto'
     */
    backend: oneOf(inferenceBackendChoices),
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
    validation: closedObject('validation', { every: PositiveInt }, { images: t.string, labels: t.string }),
  },
);
export type TrainParams = t.TypeOf<typeof TrainParams>;
