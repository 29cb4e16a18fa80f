/**
 * ONNX Runtime (onnxruntime-node), for inference, on one of its execution providers
 * (onnxruntime-providers.ts chooses): WebGPU, CUDA, or the CPU, which threads each
 * operator over every core where wasm uses one per engine. It is an optional
 * dependency (npm leaves it out where it cannot install), so it is imported through
 * optional.ts (which honours UNETFLOW_WITHOUT) and its absence is an answer, not an
 * error: `auto` falls back to tfjs. The few parts of its API unetflow uses are typed
 * here, so that the code compiles without the package too.
 *
 * The U-Net runs as a predictor (engine.ts): the model is exported once
 * (onnx/export.ts) and one session serves every tile size, batch and augmentation pass
 * (its sizes are dynamic). Same probabilities as inference/predict.ts, NHWC in and out;
 * the layout change and the augmentations' symmetries are one gather before a pass and
 * one scatter after it; a batch runs in chunks of tiles within a memory budget, as on
 * tfjs. bioimage.io packages open their own sessions (bioimageio/session.ts).
 */
import { availableParallelism } from 'node:os';
import { symmetries, symmetryIndex, type Augmentation, type Symmetry } from '../inference/augmentation.js';
import { sizeMap } from '../network/geometry.js';
import { predictionPeakBytes } from '../network/peak-bytes.js';
import type { UNet } from '../network/unet.js';
import { exportUNet, INPUT_NAME, OUTPUT_NAME } from '../onnx/export.js';
import { floatValueInfo, model as onnxModel, node } from '../onnx/messages.js';
import { budgetWithin, DEFAULT_CHUNK_BYTES, type EngineRules, type GpuAdapter, type Predictor } from './engine.js';
import { bindingLimit, nativeDir, type OnnxProvider } from './onnxruntime-providers.js';
import { importOptional } from './optional.js';

/**
 * Process memory ONNX Runtime's CPU provider takes per byte of peak-bytes.ts's tensor
 * estimate: its arena keeps buffers by size and its NCHWc convolutions hold blocked
 * copies. Measured (bench/inference-run.ts, 16 filters, peak RSS above the ~0.4 GiB of
 * model and runtime): one 2236 px tile, 1.03 GiB estimated, ~2.6 GiB; chunks of three
 * 1212 px tiles, 0.78 GiB estimated, ~2.7 GiB.
 */
export const ONNX_RUNTIME_FACTOR = 3.5;

export const onnxRuntime: EngineRules = {
  name: 'onnxruntime',
  package: 'onnxruntime-node',
  gpu: false,
  defaultThreads: () => availableParallelism(),
  /** 2 GiB of process memory, which is ONNX_RUNTIME_FACTOR times the tensors estimated. */
  ownBudget: () => DEFAULT_CHUNK_BYTES / ONNX_RUNTIME_FACTOR,
};

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

export interface OrtSessionOptions {
  readonly executionProviders: readonly OnnxProvider[];
  readonly intraOpNumThreads: number;
  readonly interOpNumThreads: number;
  readonly executionMode: 'sequential';
  readonly graphOptimizationLevel: 'all';
}

/** onnxruntime-node as unetflow sees it. */
export interface OnnxRuntime {
  /** The package version, for reports. */
  readonly version: string;
  /** The provider its sessions run on (choice.ts binds one). @default 'cpu' */
  readonly provider?: OnnxProvider;
  /** The folder of its native libraries, where the CUDA provider's would be. */
  readonly nativeDir: string;
  createSession(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession>;
  floatTensor(data: Float32Array, dims: readonly number[]): OrtTensor;
  /** Runs a one-node model on `provider`, throwing why it cannot. */
  probe(provider: OnnxProvider): Promise<void>;
}

/** Imports the package (what tests replace to simulate its absence). */
export type OnnxRuntimeImport = () => Promise<unknown>;

const packageName = 'onnxruntime-node';
export const importOnnxRuntime: OnnxRuntimeImport = () => importOptional(packageName);

interface OrtModule {
  readonly InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  readonly env?: { readonly versions?: { readonly node?: string } };
}

/**
 * onnxruntime-node, checked by running a one-node model on its CPU execution
 * provider, so that a package that imports but cannot run (a missing native library)
 * is refused here rather than on the first tile. Throws, saying why, when it cannot
 * be used (a PackageMissing when it is not installed or is disabled).
 */
export async function loadOnnxRuntime(importer: OnnxRuntimeImport = importOnnxRuntime): Promise<OnnxRuntime> {
  const imported = (await importer()) as Partial<OrtModule> & { default?: Partial<OrtModule> };
  // A CommonJS package: named exports when Node can detect them, else under default.
  const ort = (imported.InferenceSession ? imported : imported.default) as OrtModule | undefined;
  if (!ort?.InferenceSession || !ort.Tensor) throw new Error(`${packageName} does not export InferenceSession and Tensor`);
  const runtime: OnnxRuntime = {
    version: ort.env?.versions?.node ?? 'unknown version',
    nativeDir: nativeDir(),
    createSession: (bytes, options) => ort.InferenceSession.create(bytes, options),
    floatTensor: (data, dims) => new ort.Tensor('float32', data, dims),
    probe: async (provider) => {
      const session = await runtime.createSession(probeModel(), sessionOptions(1, provider));
      try {
        const out = await session.run({ x: runtime.floatTensor(Float32Array.of(-1, 2), [2]) });
        const values = out.y?.data as Float32Array | undefined;
        if (values?.[0] !== 0 || values[1] !== 2) throw new Error(`${packageName}: a Relu probe on its ${provider} provider gave [${values ? [...values] : 'nothing'}], expected [0, 2]`);
      } finally {
        await session.release();
      }
    },
  };
  await runtime.probe('cpu');
  return runtime;
}

/** `provider` (the CPU's by default), `threads` threads inside each operator (those left on the CPU), operators one after another. */
export function sessionOptions(threads: number, provider: OnnxProvider = 'cpu'): OrtSessionOptions {
  return { executionProviders: [provider], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

function probeModel(): Uint8Array {
  const graph = {
    name: 'probe',
    nodes: [node('Relu', 'relu', ['x'], ['y'])],
    initializers: [],
    inputs: [floatValueInfo('x', [2])],
    outputs: [floatValueInfo('y', [2])],
  };
  return onnxModel(graph, { name: 'unetflow', version: 'probe' }).finish();
}

export interface OnnxPredictorOptions {
  /** Threads inside each ONNX operator. */
  readonly threads: number;
  /** Names the model in errors and in the exported graph, e.g. its directory. */
  readonly name: string;
  /** Bytes a chunk of tiles may hold (network/peak-bytes.ts counts them). @default ONNX Runtime's budget for the model */
  readonly budgetBytes?: number;
  /** The provider's GPU adapter, whose limits bound a chunk (WebGPU). */
  readonly adapter?: GpuAdapter;
}

/**
 * Opens an ONNX Runtime session for `model`, whose weights are copied into the
 * exported graph. The predictor owns `model` and frees it on close (or at once if
 * opening fails), as the in-process tfjs predictor does, so that a held model shows
 * as held (its tensors) whichever engine runs it; freeing it right after the export
 * would save the size of its weights.
 */
export async function openOnnxPredictor(model: UNet, ort: OnnxRuntime, { threads, name, budgetBytes, adapter }: OnnxPredictorOptions): Promise<Predictor> {
  const config = model.config;
  const provider = ort.provider ?? 'cpu';
  // On a GPU the tensors live in its memory: the CPU provider's arena factor does not apply.
  budgetBytes ??= provider === 'cpu' ? budgetWithin(onnxRuntime.ownBudget(4 * model.parameterCount)) : DEFAULT_CHUNK_BYTES;
  const binding = bindingLimit(adapter);
  let session: OrtSession;
  try {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`ONNX Runtime threads must be a positive integer, got ${threads}`);
    const weights = new Map([...model.weights.entries()].map(([key, v]) => [key, Float32Array.from(v.dataSync())]));
    const bytes = exportUNet(config, weights, name);
    session = await ort.createSession(bytes, sessionOptions(threads, provider)).catch((error: Error) => {
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
    // On WebGPU each tensor is one storage binding: the largest (the top level's concatenation) bounds the chunk too.
    const largest = 4 * 2 * config.baseFilters * size * size;
    const chunk = Math.max(1, Math.min(Math.floor(budgetBytes / predictionPeakBytes(config, size)), Math.floor(binding / largest)));
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
    description: `onnxruntime ${ort.version}${provider === 'cpu' ? '' : ` ${provider}`}, ${threads} thread${threads === 1 ? '' : 's'}`,
    predict,
    close: async () => {
      model.dispose();
      await session.release();
    },
  };
}
