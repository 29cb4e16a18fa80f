/**
 * A U-Net's ONNX Runtime session as a predictor (engine.ts), whichever ONNX Runtime runs
 * it: onnxruntime-node's CPU provider (onnxruntime.ts) or onnxruntime-web's WebGPU or
 * wasm provider in a page (src/web/engine). Same probabilities as inference/predict.ts,
 * NHWC in and out; the layout change and the augmentations' symmetries are one gather
 * before a pass and one scatter after it; a batch runs in chunks of tiles within a
 * memory budget, as on tfjs.
 */
import { symmetries, symmetryIndex, type Augmentation, type Symmetry } from '../inference/symmetry.js';
import { sizeMap } from '../network/geometry.js';
import { predictionPeakBytes } from '../network/peak-bytes.js';
import type { UNetConfig } from '../network/config.js';
import { INPUT_NAME, OUTPUT_NAME } from '../onnx/export.js';
import type { Predictor } from './engine.js';

export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface OrtSession {
  /** The graph's input and output names, in order (bioimage.io packages feed tensors by position). */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface SessionPredictorOptions {
  /** Names the model in errors, e.g. its directory. */
  readonly name: string;
  /** Bytes a chunk of tiles may hold (network/peak-bytes.ts counts them). */
  readonly budgetBytes: number;
  /** How it runs, for reports. */
  readonly description: string;
  /** Frees what the predictor owns besides the session (run before the session is released). */
  readonly close?: () => void | Promise<void>;
}

/** The predictor over an open `session` of the U-Net `config` exported by onnx/export.ts; it owns the session. */
export function sessionPredictor(session: OrtSession, floatTensor: (data: Float32Array, dims: readonly number[]) => OrtTensor, config: UNetConfig, { name, budgetBytes, description, close }: SessionPredictorOptions): Predictor {
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
        result = await session.run({ [INPUT_NAME]: floatTensor(x, [count, c, size, size]) });
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
    description,
    predict,
    close: async () => {
      await close?.();
      await session.release();
    },
  };
}
