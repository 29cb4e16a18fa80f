/**
 * onnxruntime-node as unetflow sees it: the runtime that onnxruntime.ts loads and
 * onnxruntime-providers.ts binds to a provider, in a file of its own so that neither
 * imports the other for it.
 */
import type { OrtSession, OrtTensor } from './onnx-session.js';

/** The providers, in the order `auto` and `onnxruntime` prefer them. */
export const onnxProviders = ['webgpu', 'cuda', 'cpu'] as const;
export type OnnxProvider = (typeof onnxProviders)[number];

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
