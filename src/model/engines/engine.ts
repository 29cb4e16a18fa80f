/**
 * What an engine is, as the rest of unetflow sees it: each engine file (cpu.ts,
 * wasm.ts, tfjs-node.ts, webgpu.ts, onnxruntime.ts) defines one, choice.ts picks one,
 * and model steps run a network through the two interfaces below whichever it is.
 */
import { totalmem } from 'node:os';
import type { Augmentation } from '../inference/augmentation.js';
import type { Batch, StepResult } from '../training/trainer.js';

/**
 * The TensorFlow.js engines, in the order `auto` prefers them (choice.ts applies it and
 * says why): what training can run on.
 */
export const tfjsEngineNames = ['node-gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export type TfjsEngineName = (typeof tfjsEngineNames)[number];
/** Every engine: the TensorFlow.js ones and ONNX Runtime, which runs inference only. */
export type EngineName = TfjsEngineName | 'onnxruntime';

/** What training can be asked to run on (`backend:` of a train step). */
export const backendChoices = ['auto', ...tfjsEngineNames] as const;
export type BackendChoice = (typeof backendChoices)[number];

/**
 * What inference can be asked to run on (`backend:` of a unet step, `--backend` of a run):
 * `onnxruntime` is ONNX Runtime on the best provider that loads, `onnxruntime-<provider>`
 * one provider (onnxruntime-providers.ts).
 */
export const inferenceBackendChoices = [...backendChoices, 'onnxruntime', 'onnxruntime-webgpu', 'onnxruntime-cuda', 'onnxruntime-cpu'] as const;
export type InferenceBackendChoice = (typeof inferenceBackendChoices)[number];

/** Tensor bytes an inference chunk may hold on an engine without a ceiling of its own: a large batch of large tiles must not take the machine. */
export const DEFAULT_CHUNK_BYTES = 2 * 2 ** 30;

/** Class probabilities for batches of square tiles, however the engine computes them. */
export interface Predictor {
  /** How it runs, for reports: e.g. `wasm, 2 workers`. */
  readonly description: string;
  predict(images: Float32Array, count: number, size: number, tta: Augmentation): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Training steps, however the engine computes them. */
export interface StepRunner {
  readonly description: string;
  trainStep(batch: Batch): Promise<StepResult>;
  /** Class probabilities with the current weights (no dropout), e.g. for validation. */
  predict(images: Float32Array, count: number, size: number): Promise<Float32Array>;
  /** Copies the current weights into `trainer.model` (for checkpoints) and returns the optimiser state. */
  sync(): Promise<{ name: string; shape: number[]; data: Float32Array }[]>;
  close(): Promise<void>;
}

/** The adapter a webgpu backend runs on, as Dawn describes it. */
export interface GpuAdapter {
  /** e.g. `nvidia`, `mesa`. */
  readonly vendor: string;
  /** e.g. `ampere`, `software`. */
  readonly architecture: string;
  /** e.g. `llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)`. */
  readonly description: string;
  /** A CPU posing as a GPU (lavapipe, SwiftShader): correct, but slower than wasm. */
  readonly software: boolean;
  /** Bytes of the largest buffer, and of the largest storage binding (one tensor on ONNX Runtime's WebGPU provider). */
  readonly maxBufferSize?: number;
  readonly maxStorageBufferBindingSize?: number;
}

export interface BudgetOptions {
  /** Engines (worker threads) running side by side, sharing the machine's memory. @default 1 */
  readonly engines?: number;
  /** Bytes of the network's weights (4 per parameter). @default 0 */
  readonly weightBytes?: number;
}

/**
 * An engine's own budget (EngineRules.ownBudget) within its share of the machine: at
 * most half the machine's memory, shared by the engines running side by side.
 */
export function budgetWithin(ownBytes: number, { engines = 1 }: BudgetOptions = {}): number {
  return Math.max(0, Math.min(ownBytes, totalmem() / 2 / Math.max(1, engines)));
}

/** What every engine file defines. */
export interface EngineRules {
  readonly name: EngineName;
  /** The package providing it, for reports. */
  readonly package: string;
  /** Threads a model step uses on it when none are asked for: worker threads on tfjs, operator threads on ONNX Runtime. */
  defaultThreads(): number;
  /**
   * Tensor bytes one inference chunk may hold on it (network/peak-bytes.ts counts
   * them), before the machine's share: choice.ts's memoryBudget caps it at half the
   * machine's memory over the engines.
   */
  ownBudget(weightBytes: number): number;
  /** GPU engines come before ONNX Runtime in inference's `auto`. */
  readonly gpu: boolean;
}

/** A TensorFlow.js engine: training and inference, in this thread or replicated over worker threads. */
export interface TfjsEngine extends EngineRules {
  readonly name: TfjsEngineName;
  /** The tfjs backend it runs: `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  readonly backendName: string;
  /**
   * Loads it and switches tfjs to it, throwing why it cannot (a PackageMissing for an
   * optional package that is not installed). `auto` is true when the automatic choice
   * asks: an engine may refuse there what it takes when named (webgpu: a software adapter).
   */
  load(auto: boolean): Promise<{ readonly adapter?: GpuAdapter }>;
  /**
   * Whether replicas may run in worker threads. The replica protocol reads tensors
   * synchronously, which a GPU device in Node cannot, and replicas would share its one device.
   */
  readonly replicas: boolean;
}

/** Where a model step runs, as reported in the `backend` event. */
export interface BackendInfo {
  /** What was asked for. */
  readonly choice: InferenceBackendChoice;
  /** The engine it resolved to: what a replica thread loads, never choosing again. */
  readonly engine: EngineName;
  /** The tfjs backend name in use (`tensorflow`, `webgpu`, `wasm`, `cpu`), or `onnxruntime`. */
  readonly name: string;
  /** The package providing it, for reports, e.g. `@tensorflow/tfjs-backend-wasm`. */
  readonly package: string;
  /**
   * Why each preferred engine was skipped (auto), in order, one line each, e.g.
   * `onnxruntime: not installed` or `node: not installed (UNETFLOW_WITHOUT)`.
   */
  readonly skipped: readonly string[];
  /** ONNX Runtime's execution provider (`webgpu`, `cuda`, `cpu`); absent on tfjs. */
  readonly provider?: 'webgpu' | 'cuda' | 'cpu';
  /** The GPU adapter (tfjs's webgpu, ONNX Runtime's WebGPU provider). */
  readonly adapter?: GpuAdapter;
}
