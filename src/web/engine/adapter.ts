/**
 * The WebGPU adapter a page may run on, described as the CLI describes Dawn's
 * (engine.ts GpuAdapter): vendor, architecture, and whether it is software (SwiftShader,
 * llvmpipe, WARP: a CPU posing as a GPU, correct but slower than wasm). Where there is
 * none, why, in one line, as `skipped` reports it.
 */
import type { GpuAdapter } from '../../model/engines/engine.js';

interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}
export interface GpuAdapterLike {
  readonly info?: AdapterInfoLike;
  readonly isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<AdapterInfoLike>;
}
/** navigator.gpu, as far as unetflow uses it. */
export interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}

export type AdapterProbe = { readonly adapter: GpuAdapter; readonly handle: GpuAdapterLike } | { readonly why: string };

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render|\bwarp\b/i;

/** The adapter `gpu` (navigator.gpu by default) gives, or why none. */
export async function probeAdapter(gpu: GpuLike | undefined = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu): Promise<AdapterProbe> {
  if (!gpu) return { why: 'navigator.gpu is absent (a browser without WebGPU, or a page that is not a secure context: serve it from https:// or http://127.0.0.1)' };
  let handle: GpuAdapterLike | null;
  try {
    handle = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { why: `requestAdapter() failed: ${(error as Error).message}` };
  }
  if (!handle) return { why: 'requestAdapter() gave no adapter (WebGPU is off, or no GPU the browser may use)' };
  const info = handle.info ?? (await handle.requestAdapterInfo?.().catch(() => undefined)) ?? {};
  return { adapter: describeAdapter(info, handle.isFallbackAdapter), handle };
}

export function describeAdapter(info: AdapterInfoLike, fallback?: boolean): GpuAdapter {
  const vendor = info.vendor || 'unknown vendor';
  const architecture = info.architecture || 'unknown architecture';
  const description = [info.description, info.device].filter(Boolean).join(' ') || `${vendor} ${architecture}`;
  const software = !!(info.isFallbackAdapter ?? fallback) || SOFTWARE.test(`${vendor} ${architecture} ${description}`);
  return { vendor, architecture, description, software };
}
