/**
 * Backend selection. tfjs keeps one engine per process (per worker thread), so the
 * backend is process-wide state: choose it once, before building a model.
 *
 * Preference (`auto`): tfjs-node-gpu, then WebGPU on a hardware adapter, then
 * tfjs-node, then wasm (with the gradient kernels it lacks registered), then cpu. The
 * GPU packages are optional dependencies that npm drops silently where they cannot
 * install, imported through optional.ts, which also honours UNETFLOW_WITHOUT.
 *
 * Why tfjs-node-gpu before WebGPU: it runs TensorFlow's own CUDA kernels (cuDNN
 * convolutions), where tfjs-backend-webgpu runs tfjs's portable WGSL shaders through
 * Dawn. No machine this project has had could measure the two side by side
 * (tfjs-node-gpu does not install here, and no GPU was lent), so the order is
 * reasoned, not measured; the benchmarks (bench/unet.bench.ts) have entries for both.
 *
 * `auto` never takes a software WebGPU adapter (Mesa's lavapipe, SwiftShader): it is
 * correct but 3-16x slower than wasm on the same CPU (bench/unet.bench.ts's webgpu
 * entries on lavapipe). `--backend webgpu` takes any adapter and reports which
 * (BackendInfo.adapter).
 *
 * Inference may also run on ONNX Runtime (onnxruntime-node, optional too), which
 * threads each operator over every core where wasm uses one per engine: `auto`
 * prefers it to every tfjs backend but the GPU ones (a GPU beats its CPU provider;
 * for WebGPU on a hardware adapter that too is reasoned, not measured here).
 */
import * as tf from '@tensorflow/tfjs';
import { loadOnnxRuntime, type OnnxRuntime, type OnnxRuntimeImport } from './onnxruntime.js';
import { importOptional, PackageMissing } from './optional.js';
import { registerWasmKernels } from './wasm.js';
import { openGpu, setWebGpu, type GpuAdapter } from './webgpu.js';

/** tfjs backends: what training can run on. */
export const backendChoices = ['auto', 'node-gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];

/** What inference can run on: a tfjs backend or ONNX Runtime. */
export const inferenceBackendChoices = [...backendChoices, 'onnxruntime'] as const;
export type InferenceBackendChoice = (typeof inferenceBackendChoices)[number];

export interface BackendInfo {
  /** What was asked for. */
  readonly choice: BackendChoice;
  /** The tfjs backend name in use: `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  readonly name: string;
  /** The package providing it, for reports, e.g. `@tensorflow/tfjs-backend-wasm`. */
  readonly package: string;
  /**
   * Why each preferred backend was skipped (auto), in order, one line each, e.g.
   * `onnxruntime: not installed` or `node: not installed (UNETFLOW_WITHOUT)`.
   */
  readonly skipped: readonly string[];
  /** The GPU adapter (webgpu only). */
  readonly adapter?: GpuAdapter;
}

type Loaded = { name: string; package: string; adapter?: GpuAdapter };
type Loader = () => Promise<Loaded>;

const loaders: Record<Exclude<BackendChoice, 'auto'>, Loader> = {
  'node-gpu': async () => {
    await importOptional('@tensorflow/tfjs-node-gpu');
    await setOrThrow('tensorflow');
    return { name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu' };
  },
  webgpu: async () => {
    const adapter = await setWebGpu();
    return { name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', adapter };
  },
  node: async () => {
    await importOptional('@tensorflow/tfjs-node');
    await setOrThrow('tensorflow');
    return { name: 'tensorflow', package: '@tensorflow/tfjs-node' };
  },
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmKernels();
    await setOrThrow('wasm');
    return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm' };
  },
  cpu: async () => {
    await setOrThrow('cpu');
    return { name: 'cpu', package: '@tensorflow/tfjs (cpu)' };
  },
};

async function setOrThrow(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

let current: Promise<BackendInfo> | undefined;
let currentChoice: BackendChoice | undefined;

/**
 * Selects the backend (once per process or worker; later calls with the same choice
 * return the same answer, a different one switches). A forced choice that cannot
 * load throws, naming why.
 */
export function useBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (current && currentChoice === choice) return current;
  currentChoice = choice;
  current = select(choice);
  current.catch(() => {
    current = undefined;
    currentChoice = undefined;
  });
  return current;
}

async function select(choice: BackendChoice): Promise<BackendInfo> {
  // Only a run-wide `--backend onnxruntime` brings it here (a train step's own codec
  // refuses it): it is meant for the inference steps, so training takes tfjs's choice.
  if ((choice as InferenceBackendChoice) === 'onnxruntime') {
    const tfjs = await select('auto');
    return { ...tfjs, skipped: ['onnxruntime: inference only', ...tfjs.skipped] };
  }
  if (choice !== 'auto') {
    try {
      return { choice, skipped: [], ...(await loaders[choice]()) };
    } catch (error) {
      throw new Error(`backend '${choice}' is not available: ${(error as Error).message}`, { cause: error });
    }
  }
  const skipped: string[] = [];
  for (const name of ['node-gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const) {
    try {
      return { choice, skipped, ...(await (name === 'webgpu' ? hardwareWebGpu() : loaders[name]())) };
    } catch (error) {
      skipped.push(`${name}: ${skipReason(error)}`);
    }
  }
  throw new Error(`no tfjs backend could be loaded:\n  ${skipped.join('\n  ')}`);
}

/** The webgpu loader for `auto`: refuses a software adapter before switching to it. */
async function hardwareWebGpu(): Promise<Loaded> {
  const { adapter } = await openGpu();
  if (adapter.software) throw new Error(`software adapter (${adapter.vendor}, ${adapter.description}), not chosen automatically`);
  return loaders.webgpu();
}

/** Whether a skipped line is about a GPU backend, which `auto` prefers to ONNX Runtime. */
const isGpuLine = (line: string) => line.startsWith('node-gpu:') || line.startsWith('webgpu:');

/** What inference runs on: a tfjs backend, or ONNX Runtime (reported as BackendInfo is). */
export type InferenceBackend =
  | { readonly engine: 'tfjs'; readonly info: BackendInfo }
  | {
      readonly engine: 'onnxruntime';
      readonly info: Omit<BackendInfo, 'choice'> & { readonly choice: InferenceBackendChoice };
      readonly onnxruntime: OnnxRuntime;
    };

let onnxRuntime: Promise<OnnxRuntime> | undefined;

/**
 * Selects where inference runs. `auto`: a GPU backend that tfjs's `auto` takes
 * (tfjs-node-gpu, WebGPU on a hardware adapter), else ONNX Runtime where it is installed
 * and works, else tfjs's own `auto`; `onnxruntime` requires it (throwing why not); a
 * tfjs name uses that tfjs backend, never ONNX Runtime. `skipped` lists what `auto`
 * passed over, in order of preference.
 * @param importer imports onnxruntime-node; tests replace it @default a dynamic import
 */
export async function useInferenceBackend(choice: InferenceBackendChoice = 'auto', importer?: OnnxRuntimeImport): Promise<InferenceBackend> {
  const ort = (): Promise<OnnxRuntime> => {
    if (importer) return loadOnnxRuntime(importer);
    onnxRuntime ??= loadOnnxRuntime();
    onnxRuntime.catch(() => (onnxRuntime = undefined));
    return onnxRuntime;
  };
  const onOrt = async (runtime: OnnxRuntime, skipped: string[]): Promise<InferenceBackend> => {
    // tfjs still reads the model's weights: on its usual backend, not on the cpu one
    // it would otherwise fall back to (which also prints a hint to install tfjs-node).
    await useBackend('auto');
    return { engine: 'onnxruntime', info: { choice, name: 'onnxruntime', package: 'onnxruntime-node', skipped }, onnxruntime: runtime };
  };
  if (choice === 'onnxruntime') {
    const runtime = await ort().catch((error: Error) => {
      throw new Error(`backend 'onnxruntime' is not available: ${error.message}`, { cause: error });
    });
    return onOrt(runtime, []);
  }
  if (choice !== 'auto') return { engine: 'tfjs', info: await useBackend(choice) };
  // tfjs's auto tries the GPU backends first: where it lands on one, that is the answer.
  const tfjs = await useBackend('auto');
  const gpuSkipped = tfjs.skipped.filter(isGpuLine);
  if (tfjs.name === 'webgpu' || tfjs.package === '@tensorflow/tfjs-node-gpu') {
    return { engine: 'tfjs', info: { ...tfjs, choice } };
  }
  const skipped = [...gpuSkipped];
  const runtime = await ort().catch((error: Error) => void skipped.push(`onnxruntime: ${skipReason(error)}`));
  if (runtime) return onOrt(runtime, skipped);
  return { engine: 'tfjs', info: { ...tfjs, skipped: [...skipped, ...tfjs.skipped.filter((s) => !isGpuLine(s))] } };
}

/** One line for a backend report: a missing package's short reason, else the error's first line. */
function skipReason(error: unknown): string {
  if (error instanceof PackageMissing) return error.reason;
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
