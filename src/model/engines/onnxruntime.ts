/**
 * onnxruntime-node, loaded on demand. It is an optional dependency (npm leaves it out
 * where it cannot install), so it is imported through optional.ts (which honours
 * UNETFLOW_WITHOUT) and its absence is an answer, not an error: callers fall back to
 * tfjs. The few parts of its API unetflow uses are typed here, so that the code
 * compiles without the package too.
 */
import { importOptional } from './optional.js';
import { floatValueInfo, model, node } from '../onnx/messages.js';

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
  return model(graph, { name: 'unetflow', version: 'probe' }).finish();
}
