/**
 * ONNX Runtime's execution providers, and which one inference runs on. onnxruntime-node
 * ships two in its one library: WebGPU (Dawn inside libonnxruntime.so.1, on whatever
 * Vulkan / Metal / D3D12 adapter it finds, no CUDA files needed) and the CPU. The CUDA
 * provider is a separate download (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild
 * onnxruntime-node`, needing CUDA 13 and cuDNN 9): it is there when its library lies
 * beside libonnxruntime.
 *
 * ORT's Dawn does not say which adapter it took. It asks Dawn for the high-performance
 * adapter of the platform's default backend; the `webgpu` package's Dawn, asked the same
 * way, enumerates the same drivers (Vulkan ICDs on Linux) and so names the same adapter,
 * with its limits. `auto` takes WebGPU only where that adapter is known and is hardware:
 * a software adapter (Mesa's lavapipe, SwiftShader) runs every node correctly, but far
 * slower than the CPU provider on the same cores. Named, a provider takes any adapter.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuAdapter } from './engine.js';
import { dawnAdapter } from './dawn.js';
import { importOptional, PackageMissing } from './optional.js';
import { onnxProviders, type OnnxProvider, type OnnxRuntime } from './onnxruntime-runtime.js';

export { onnxProviders, type OnnxProvider };

/** The backend name that forces `provider`, e.g. `onnxruntime-webgpu`. */
export const providerBackend = (provider: OnnxProvider) => `onnxruntime-${provider}` as const;
export const providerBackends = onnxProviders.map(providerBackend);
export type ProviderBackend = (typeof providerBackends)[number];

/** A provider that loaded, with the adapter it runs on (WebGPU). */
export interface OpenedProvider {
  readonly provider: OnnxProvider;
  readonly adapter?: GpuAdapter;
}

const CUDA_LIBRARY: Partial<Record<NodeJS.Platform, string>> = { linux: 'libonnxruntime_providers_cuda.so', win32: 'onnxruntime_providers_cuda.dll' };

/** Where onnxruntime-node keeps its native libraries (bin/napi-v6/<platform>/<arch>). */
export function nativeDir(): string {
  const entry = fileURLToPath(import.meta.resolve('onnxruntime-node'));
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Why the CUDA provider is absent (its library is not beside libonnxruntime), or
 * undefined where it is there; `dir` is onnxruntime-node's native folder.
 */
export function cudaMissing(dir: string): string | undefined {
  const library = CUDA_LIBRARY[process.platform];
  if (!library) return `not built for ${process.platform}`;
  if (existsSync(join(dir, library))) return undefined;
  return `not installed (no ${library} beside libonnxruntime: \`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\`, needs CUDA 13 and cuDNN 9)`;
}

/** One line naming an adapter, for skipped lines and errors. */
const named = (a: GpuAdapter) => `${a.vendor} ${a.architecture}, ${a.description}`;

/**
 * Loads `provider` on `runtime`, checked with a one-node probe, throwing why it cannot.
 * `auto` is true where the choice is automatic: WebGPU then refuses an adapter it cannot
 * name and a software one.
 */
export async function openProvider(runtime: OnnxRuntime, provider: OnnxProvider, auto: boolean): Promise<OpenedProvider> {
  if (provider === 'cpu') return { provider };
  if (provider === 'cuda') {
    const missing = cudaMissing(runtime.nativeDir);
    if (missing) throw new Error(missing);
    await runtime.probe('cuda');
    return { provider };
  }
  let adapter: GpuAdapter | undefined;
  try {
    // The `webgpu` package's Dawn names the adapter ORT's Dawn takes (the module comment says why they agree).
    adapter = await dawnAdapter();
  } catch (error) {
    if (auto) throw new Error(`adapter unknown (${error instanceof PackageMissing ? `${error.packageName}, which names it: ${error.reason}` : (error as Error).message}), not chosen automatically`, { cause: error });
  }
  if (auto && adapter?.software) throw new Error(`software adapter (${named(adapter)}), not chosen automatically`);
  await runtime.probe('webgpu').catch((error: Error) => {
    const where = adapter ? ` on the ${named(adapter)} adapter` : '';
    throw new Error(`the WebGPU provider failed${where}: ${error.message.split('\n')[0]} (it needs a Vulkan, Metal or D3D12 driver; without a GPU, Linux can use Mesa >= 25 lavapipe)`, { cause: error });
  });
  return { provider, ...(adapter && { adapter }) };
}

/**
 * Bytes the largest single tensor of a tile of `size` px may take on `adapter`: WebGPU
 * binds each tensor as one storage buffer, at most maxStorageBufferBindingSize bytes.
 */
export function bindingLimit(adapter: GpuAdapter | undefined): number {
  return Math.min(adapter?.maxStorageBufferBindingSize ?? Infinity, adapter?.maxBufferSize ?? Infinity);
}
