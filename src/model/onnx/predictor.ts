/**
 * A predictor (runner.ts's interface) that runs the U-Net in ONNX Runtime on the CPU,
 * its operators threaded over `threads` cores: the model is exported once (export.ts)
 * and one session serves every tile size, batch and augmentation pass (its sizes are
 * dynamic). Same probabilities as predictProbabilities, NHWC in and out; the layout
 * change and the augmentations' symmetries are one gather before a pass and one
 * scatter after it; a batch runs in chunks of tiles within a memory budget, as on
 * tfjs. Also the choice between it and runner.ts's tfjs predictor.
 */
import { availableParallelism } from 'node:os';
import type { InferenceBackend } from '../engines/choice.js';
import { sizeMap } from '../network/geometry.js';
import { memoryBudget, predictionPeakBytes } from '../network/peak-bytes.js';
import { symmetries, symmetryIndex, type Augmentation, type Symmetry } from '../inference/predict.js';
import { defaultWorkers, openPredictor, type Predictor } from '../engines/tfjs.js';
import type { UNet } from '../network/unet.js';
import { exportUNet, INPUT_NAME, OUTPUT_NAME } from './export.js';
import { sessionOptions, type OnnxRuntime, type OrtSession } from '../engines/onnxruntime.js';

/** Workers by default: every core as ONNX Runtime threads, runner.ts's default on tfjs. */
export function defaultInferenceWorkers(engine: InferenceBackend): number {
  return engine.engine === 'onnxruntime' ? availableParallelism() : defaultWorkers(engine.info);
}

/**
 * A predictor for `model` on `engine` (useInferenceBackend): ONNX Runtime with
 * `workers` threads, or runner.ts's tfjs predictor with `workers` workers. Takes the model.
 * @param name names the model in errors, e.g. its directory
 */
export function openInferencePredictor(model: UNet, engine: InferenceBackend, workers: number, name: string): Promise<Predictor> {
  return engine.engine === 'onnxruntime'
    ? openOnnxPredictor(model, engine.onnxruntime, { threads: workers, name })
    : Promise.resolve(openPredictor(model, engine.info, workers));
}

export interface OnnxPredictorOptions {
  /** Threads inside each ONNX operator. */
  readonly threads: number;
  /** Names the model in errors and in the exported graph, e.g. its directory. */
  readonly name: string;
  /** Bytes a chunk of tiles may hold (memory.ts). @default memoryBudget('onnxruntime') for the model */
  readonly budgetBytes?: number;
}

/**
 * Opens an ONNX Runtime session for `model`, whose weights are copied into the
 * exported graph. The predictor owns `model` and frees it on close (or at once if
 * opening fails), as the in-process tfjs predictor does, so that a held model shows
 * as held (its tensors) whichever engine runs it; freeing it right after the export
 * would save the size of its weights.
 */
export async function openOnnxPredictor(model: UNet, ort: OnnxRuntime, { threads, name, budgetBytes }: OnnxPredictorOptions): Promise<Predictor> {
  const config = model.config;
  budgetBytes ??= memoryBudget('onnxruntime', { weightBytes: 4 * model.parameterCount });
  let session: OrtSession;
  try {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`ONNX Runtime threads must be a positive integer, got ${threads}`);
    const weights = new Map([...model.weights.entries()].map(([key, v]) => [key, Float32Array.from(v.dataSync())]));
    const bytes = exportUNet(config, weights, name);
    session = await ort.createSession(bytes, sessionOptions(threads)).catch((error: Error) => {
      throw new Error(`ONNX Runtime cannot open the U-Net of ${name}: ${error.message}`, { cause: error });
    });
  } catch (error) {
    model.dispose(); // handed over either way
    throw error;
  }
  const indexes = new Map<string, Int32Array>();
  const indexOf = (s: Symmetry, side: number) => {
    const key = `${+s.flipY}${+s.flipX}${+s.transpose} ${side}`;
    let index = indexes.get(key);
    if (!index) indexes.set(key, (index = symmetryIndex(s, side, side)));
    return index;
  };

  // Square tiles, as the tfjs predictor's callers give (bands are a worker-pool matter).
  const predict = async (images: Float32Array, count: number, size: number, tta: Augmentation): Promise<Float32Array> => {
    const c = config.inputChannels;
    if (images.length !== count * size * size * c) {
      throw new RangeError(`predict: ${images.length} values for ${count} tiles of ${size}x${size}x${c}`);
    }
    const out = sizeMap(size, config).output; // throws naming the nearest valid sizes
    // Chunks of tiles within the budget (ONNX Runtime frees as it goes, much as UNet.infer
    // does); a tile too large for it still runs alone: this engine has no hard ceiling.
    const chunk = Math.max(1, Math.floor(budgetBytes / predictionPeakBytes(config, size)));
    const result = new Float32Array(count * out * out * config.classes);
    for (let from = 0; from < count; from += chunk) {
      const n = Math.min(chunk, count - from);
      const part = await predictChunk(images.subarray(from * size * size * c, (from + n) * size * size * c), n, size, out, tta);
      result.set(part, from * out * out * config.classes);
    }
    return result;
  };

  const predictChunk = async (images: Float32Array, count: number, size: number, out: number, tta: Augmentation): Promise<Float32Array> => {
    const c = config.inputChannels;
    const k = config.classes;
    const inPixels = size * size;
    const outPixels = out * out;
    const passes = symmetries(tta);
    const sum = new Float32Array(count * outPixels * k);
    for (const s of passes) {
      // NHWC -> NCHW, gathering through the symmetry.
      const from = indexOf(s, size);
      const x = new Float32Array(images.length);
      for (let n = 0; n < count; n++) {
        for (let ch = 0; ch < c; ch++) {
          const dst = (n * c + ch) * inPixels;
          const src = n * inPixels * c + ch;
          for (let i = 0; i < inPixels; i++) x[dst + i] = images[src + from[i] * c];
        }
      }
      let result;
      try {
        result = await session.run({ [INPUT_NAME]: ort.floatTensor(x, [count, c, size, size]) });
      } catch (error) {
        throw new Error(`ONNX Runtime failed on the U-Net of ${name} (${count} tiles of ${size}x${size}): ${(error as Error).message}`, { cause: error });
      }
      // NCHW -> NHWC, scattering back through the same symmetry.
      const y = result[OUTPUT_NAME].data as Float32Array;
      const to = indexOf(s, out);
      for (let n = 0; n < count; n++) {
        for (let ch = 0; ch < k; ch++) {
          const src = (n * k + ch) * outPixels;
          const dst = n * outPixels * k + ch;
          for (let i = 0; i < outPixels; i++) sum[dst + to[i] * k] += y[src + i];
        }
      }
    }
    if (passes.length > 1) for (let i = 0; i < sum.length; i++) sum[i] /= passes.length;
    return sum;
  };

  return {
    description: `onnxruntime ${ort.version}, ${threads} thread${threads === 1 ? '' : 's'}`,
    predict,
    close: async () => {
      model.dispose();
      await session.release();
    },
  };
}
