/**
 * How a model step gets its predictor, whatever runs it: in Node the engine choice.ts
 * picks (ONNX Runtime, tfjs) on the model folder on disk; in a page ONNX Runtime Web
 * (WebGPU or wasm: src/web/engine) on the model's files from a URL or a folder handle.
 */
import type { BackendInfo, InferenceBackendChoice, Predictor } from '../model/engines/engine.js';
import type { UNetConfig } from '../model/network/config.js';
import type { ModelMetadata } from '../model/store.js';

export interface OpenedModel {
  readonly predictor: Predictor;
  readonly backend: BackendInfo;
  /** Threads it runs with, for the `backend` event. */
  readonly workers: number;
  readonly metadata: ModelMetadata;
  readonly config: UNetConfig;
}

export interface EngineHost {
  /** The model folder `dir` on `choice` with `workers` threads (undefined: the engine's default). */
  open(dir: string, choice: InferenceBackendChoice, workers: number | undefined): Promise<OpenedModel>;
}
