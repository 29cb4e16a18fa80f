/**
 * The U-Net on ONNX Runtime Web in a page: the WebGPU execution provider where the
 * browser gives an adapter, wasm (SIMD; threads only where the page is cross-origin
 * isolated, which SharedArrayBuffer needs) where not. The tiles, batches, chunks and
 * test-time augmentation are onnx-session.ts's, the same code the CLI's ONNX Runtime
 * runs; what runs where is reported as the CLI's `backend` event reports it
 * (BackendInfo: engine, adapter, why others were skipped).
 *
 * `auto` takes WebGPU on a hardware adapter, else wasm; a software adapter (SwiftShader)
 * is taken only when `webgpu` is named, as the CLI's webgpu engine does.
 */
import type { BackendInfo, GpuAdapter, Predictor } from '../../model/engines/engine.js';
import type { OnnxRuntime } from '../../model/engines/onnxruntime.js';
import { sessionPredictor, type OrtSession, type OrtTensor } from '../../model/engines/onnx-session.js';
import { probeAdapter, type GpuAdapterLike, type GpuLike } from './adapter.js';
import { readUNetFiles, type ModelFileSource, type UNetFiles } from './model.js';

/** onnxruntime-web as unetflow uses it (`import * as ort from 'onnxruntime-web'`). */
export interface OrtWebModule {
  readonly InferenceSession: { create(model: Uint8Array, options: object): Promise<OrtSession> };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  readonly env: {
    readonly versions?: { readonly web?: string; readonly common?: string };
    readonly wasm: { numThreads?: number };
    readonly webgpu?: { adapter?: unknown };
  };
}

export type WebBackendChoice = 'auto' | 'webgpu' | 'wasm';
export const webBackendChoices: readonly WebBackendChoice[] = ['auto', 'webgpu', 'wasm'];

export interface WebPredictorOptions {
  /** The onnxruntime-web module (its wasm files where the page serves them: env.wasm.wasmPaths is the caller's). */
  readonly ort: OrtWebModule;
  /** @default 'auto' */
  readonly backend?: WebBackendChoice;
  /** @default navigator.gpu */
  readonly gpu?: GpuLike;
  /** Whether the page may use threads (SharedArrayBuffer). @default globalThis.crossOriginIsolated */
  readonly crossOriginIsolated?: boolean;
  /** wasm threads when isolated. @default navigator.hardwareConcurrency */
  readonly threads?: number;
  /** Tensor bytes a chunk of tiles may hold (network/peak-bytes.ts). @default WEBGPU_BUDGET or WASM_BUDGET */
  readonly budgetBytes?: number;
}

/**
 * Tensor bytes per chunk: wasm's heap holds at most 4 GiB and ONNX Runtime's arena takes
 * about 3.5 times the tensors estimated (onnxruntime.ts); WebGPU's buffers are bounded
 * by the adapter (256 MiB maxBufferSize on many).
 */
export const WASM_BUDGET = 2 ** 29;
export const WEBGPU_BUDGET = 2 ** 28;

export interface WebPredictor {
  readonly predictor: Predictor;
  readonly backend: BackendInfo;
  readonly config: UNetFiles['config'];
}

const PACKAGE = 'onnxruntime-web';

/** Opens the model in `files` (or already read by readUNetFiles) on the best provider the page has, saying why others were skipped. */
export async function openWebPredictor(model: ModelFileSource | UNetFiles, options: WebPredictorOptions): Promise<WebPredictor> {
  const { ort, backend: choice = 'auto' } = options;
  if (!webBackendChoices.includes(choice)) throw new RangeError(`backend '${choice}' does not run in a page: expected one of ${webBackendChoices.join(', ')}`);
  const unet = 'onnx' in model ? model : await readUNetFiles(model);
  const name = 'read' in model ? model.name : 'the model';
  const version = ort.env.versions?.web ?? ort.env.versions?.common ?? 'unknown version';
  const skipped: string[] = [];
  const info = (engine: 'webgpu' | 'wasm', adapter?: GpuAdapter): BackendInfo => ({ choice, engine: 'onnxruntime', name: engine, package: PACKAGE, skipped, ...(adapter ? { adapter } : {}) });

  if (choice !== 'wasm') {
    const probe = await probeAdapter(options.gpu ?? (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu);
    if ('why' in probe) {
      if (choice === 'webgpu') throw new Error(`webgpu: ${probe.why}`);
      skipped.push(`webgpu: ${probe.why}`);
    } else if (probe.adapter.software && choice === 'auto') {
      skipped.push(`webgpu: ${adapterText(probe.adapter)} is a software adapter, slower than wasm (name backend: webgpu to use it)`);
    } else {
      try {
        const session = await openSession(ort, unet.onnx, ['webgpu'], probe.handle, name);
        const description = `${PACKAGE} ${version}, webgpu on ${adapterText(probe.adapter)}`;
        return { predictor: sessionPredictor(session, tensorOf(ort), unet.config, { name, budgetBytes: options.budgetBytes ?? WEBGPU_BUDGET, description }), backend: info('webgpu', probe.adapter), config: unet.config };
      } catch (error) {
        if (choice === 'webgpu') throw error;
        skipped.push(`webgpu: ${(error as Error).message}`);
      }
    }
  }
  const isolated = options.crossOriginIsolated ?? (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ?? false;
  const threads = isolated ? Math.max(1, options.threads ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1) : 1;
  // Read when the first session starts the runtime; later sessions keep what it started with.
  ort.env.wasm.numThreads = threads;
  const session = await openSession(ort, unet.onnx, ['wasm'], undefined, name);
  const why = isolated ? '' : ' (the page is not cross-origin isolated)';
  const description = `${PACKAGE} ${version}, wasm SIMD, ${threads} thread${threads === 1 ? '' : 's'}${why}`;
  return { predictor: sessionPredictor(session, tensorOf(ort), unet.config, { name, budgetBytes: options.budgetBytes ?? WASM_BUDGET, description }), backend: info('wasm'), config: unet.config };
}

async function openSession(ort: OrtWebModule, onnx: Uint8Array, providers: string[], adapter: GpuAdapterLike | undefined, name: string): Promise<OrtSession> {
  if (adapter && ort.env.webgpu) {
    try {
      ort.env.webgpu.adapter = adapter; // the adapter reported is the one it runs on
    } catch {
      // set once per page: a second model keeps the first's adapter
    }
  }
  try {
    return await ort.InferenceSession.create(onnx, { executionProviders: providers, graphOptimizationLevel: 'all' });
  } catch (error) {
    throw new Error(`ONNX Runtime Web (${providers[0]}) cannot open the U-Net of ${name}: ${(error as Error).message}`, { cause: error });
  }
}

function tensorOf(ort: OrtWebModule) {
  return (data: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', data, dims);
}

function adapterText(a: GpuAdapter): string {
  return `${a.vendor} ${a.architecture} (${a.description})`;
}

/**
 * onnxruntime-web as the OnnxRuntime that bioimage.io sessions take
 * (bioimageio/session.ts openPackageSession's `ort`): sessions on `provider`, whatever
 * CPU options the caller asks for.
 */
export function asOnnxRuntime(ort: OrtWebModule, provider: 'webgpu' | 'wasm'): OnnxRuntime {
  return {
    version: `${PACKAGE} ${ort.env.versions?.web ?? ort.env.versions?.common ?? 'unknown version'} (${provider})`,
    createSession: (bytes) => ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all' }),
    floatTensor: tensorOf(ort),
  };
}
