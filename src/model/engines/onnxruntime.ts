/**
 * ONNX Runtime's CPU provider (onnxruntime-node), for inference: it threads each
 * operator over every core where wasm uses one per engine. It is an optional
 * dependency (npm leaves it out where it cannot install), so it is imported through
 * optional.ts (which honours UNETFLOW_WITHOUT) and its absence is an answer, not an
 * error: `auto` falls back to tfjs. The few parts of its API unetflow uses are typed
 * here, so that the code compiles without the package too.
 *
 * The U-Net runs as a predictor (engine.ts): the model is exported once
 * (onnx/export.ts) and one session serves every tile size, batch and augmentation pass
 * (its sizes are dynamic); onnx-session.ts turns the session into the predictor, the
 * same code the page's onnxruntime-web engine runs (src/web/engine). bioimage.io
 * packages open their own sessions (bioimageio/session.ts).
 */
import { availableParallelism } from 'node:os';
import type { UNet } from '../network/unet.js';
import { exportUNet } from '../onnx/export.js';
import { floatValueInfo, model as onnxModel, node } from '../onnx/messages.js';
import { budgetWithin, DEFAULT_CHUNK_BYTES, type EngineRules, type Predictor } from './engine.js';
import { importOptional } from './optional.js';
import { sessionPredictor, type OrtSession, type OrtTensor } from './onnx-session.js';

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

export type { OrtSession, OrtTensor } from './onnx-session.js';

export interface OrtSessionOptions {
  readonly executionProviders: readonly string[];
  readonly intraOpNumThreads: number;
  readonly interOpNumThreads: number;
  readonly executionMode: 'sequential';
  readonly graphOptimizationLevel: 'all';
}

/** onnxruntime-node as unetflow sees it. */
export interface OnnxRuntime {
  /** The package version, for reports. */
  readonly version: string;
  createSession(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession>;
  floatTensor(data: Float32Array, dims: readonly number[]): OrtTensor;
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
    createSession: (bytes, options) => ort.InferenceSession.create(bytes, options),
    floatTensor: (data, dims) => new ort.Tensor('float32', data, dims),
  };
  const session = await runtime.createSession(probeModel(), sessionOptions(1));
  try {
    const out = await session.run({ x: runtime.floatTensor(Float32Array.of(-1, 2), [2]) });
    const values = out.y?.data as Float32Array | undefined;
    if (values?.[0] !== 0 || values[1] !== 2) throw new Error(`${packageName}: a Relu probe gave [${values ? [...values] : 'nothing'}], expected [0, 2]`);
  } finally {
    await session.release();
  }
  return runtime;
}

/** CPU execution provider, `threads` threads inside each operator, operators one after another. */
export function sessionOptions(threads: number): OrtSessionOptions {
  return { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
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
  budgetBytes ??= budgetWithin(onnxRuntime.ownBudget(4 * model.parameterCount));
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
  return sessionPredictor(session, ort.floatTensor, config, {
    name,
    budgetBytes,
    description: `onnxruntime ${ort.version}, ${threads} thread${threads === 1 ? '' : 's'}`,
    close: () => model.dispose(),
  });
}
