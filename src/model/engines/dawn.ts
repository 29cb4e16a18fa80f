/**
 * The `webgpu` package's Dawn, set up once for the process as `navigator.gpu` (with the
 * GPU* globals tfjs's WebGPU backend checks against), and the high-performance adapter it
 * gives: what tfjs's WebGPU engine runs on (webgpu.ts), and how ONNX Runtime's WebGPU
 * provider, whose own Dawn says nothing of its adapter, names the same one
 * (onnxruntime-providers.ts). No tfjs here.
 */
import type { GpuAdapter } from './engine.js';
import { importOptional } from './optional.js';

/** The parts of WebGPU used here (the full types live in @webgpu/types, which tsc is not given). */
interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** Where Dawn reports it now (WebGPU moved it from the adapter into its info). */
  readonly isFallbackAdapter?: boolean;
}
interface DawnAdapter {
  readonly info: AdapterInfo;
  readonly isFallbackAdapter?: boolean;
  readonly limits: { readonly maxBufferSize: number; readonly maxStorageBufferBindingSize: number };
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<DawnAdapter | null>;
}
interface Dawn {
  create(options: string[]): Gpu;
  globals: object;
}

let found: Promise<GpuAdapter | undefined> | undefined;

/**
 * Dawn's high-performance adapter (the one tfjs and ONNX Runtime ask for), described;
 * undefined where Dawn finds none. Throws PackageMissing (optional.ts) where `webgpu` is
 * missing or disabled.
 */
export async function dawnAdapter(): Promise<GpuAdapter | undefined> {
  // Asked every time, so that UNETFLOW_WITHOUT disables it even after a first use.
  const dawn = (await importOptional('webgpu')) as Dawn;
  found ??= (async () => {
    const g = globalThis as { navigator?: { gpu?: Gpu } };
    if (!g.navigator?.gpu) {
      // The GPU* classes tfjs checks against (GPUBuffer, GPUBufferUsage, …) must be globals too.
      Object.assign(globalThis, dawn.globals);
      const navigator = g.navigator ?? {};
      navigator.gpu = dawn.create([]);
      // Node 20 has no navigator; where Node has one, its property is read-only but the object is not.
      if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
    }
    const adapter = await g.navigator!.gpu!.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return undefined;
    const { info, limits } = adapter;
    return {
      vendor: info.vendor || 'unknown',
      architecture: info.architecture || 'unknown',
      description: info.description || info.device || 'no description',
      software: info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || info.architecture === 'software',
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    };
  })();
  found.catch(() => (found = undefined));
  return found;
}
