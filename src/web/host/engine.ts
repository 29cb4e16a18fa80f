/**
 * Model steps' predictors in a page (src/host/engine.ts): ONNX Runtime Web on WebGPU or
 * wasm (src/web/engine/predictor.ts, which says why it passed a provider over), the
 * model's files from below the models root (a URL or a folder handle). A CLI backend
 * name a pipeline gives (`onnxruntime`, a tfjs one) takes the page's `auto`, except
 * `webgpu` and `wasm`, which the page has too.
 */
import type { EngineHost } from '../../host/engine.js';
import type { ModelMetadata } from '../../model/store.js';
import { openWebPredictor, type OrtWebModule, type WebBackendChoice } from '../engine/predictor.js';
import { modelFilesAt, type ModelsRoot } from './model-catalog.js';

export function pageEngine(root: ModelsRoot, ort: OrtWebModule, scope: { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } } = globalThis as never): EngineHost {
  return {
    async open(dir, choice, workers) {
      const files = modelFilesAt(root, dir);
      const backend: WebBackendChoice = choice === 'webgpu' || choice === 'wasm' ? choice : 'auto';
      // wasm threads need shared memory: only in a cross-origin isolated page.
      const threads = scope.crossOriginIsolated ? (workers ?? Math.max(1, scope.navigator?.hardwareConcurrency ?? 1)) : 1;
      const opened = await openWebPredictor(files, { ort, backend, threads });
      let metadata: Omit<ModelMetadata, 'architecture'>;
      try {
        metadata = JSON.parse(new TextDecoder().decode(await files.read('metadata.json')));
      } catch (error) {
        await opened.predictor.close();
        throw new Error(`${files.name}/metadata.json: ${(error as Error).message}`, { cause: error });
      }
      return { predictor: opened.predictor, backend: opened.backend, workers: threads, metadata: { ...metadata, architecture: opened.config }, config: opened.config };
    },
  };
}
