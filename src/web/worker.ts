/**
 * The runner in a Web Worker (worker.js of the web build), so that the page never
 * freezes. Messages from the page, and what answers them (`id` pairs them):
 *
 *   { type: 'validate', id, name, text }                       -> { type: 'validation', id, result: Validation }
 *   { type: 'run', id, name, text, input, output, engine }     -> { type: 'event', id, event: RunEvent }..., then { type: 'end', id }
 *   { type: 'stop', id }                                       (the run takes no new file; those in flight finish)
 *   any request that cannot be served                          -> { type: 'error', id, message }
 *
 * `input` and `output` are FileSystemDirectoryHandles (structured-cloneable: the worker
 * reads and writes the folders itself); events are the CLI's `--json` events
 * (docs/events.md). Models are found below the worker's own URL (the build's models/).
 *
 * What a run in a page does, and does not do yet: runner.ts (runPipelineInPage).
 */
import * as ort from 'onnxruntime-web';
import type { RunEvent } from '../events.js';
import type { OrtWebModule } from './engine/predictor.js';
import type { DirectoryHandle } from './host/handles.js';
import { runPipelineInPage, validateInPage, type EngineChoice, type ModelsRoot } from './runner.js';

type Request =
  | { readonly type: 'validate'; readonly id: number; readonly name: string; readonly text: string }
  | { readonly type: 'run'; readonly id: number; readonly name: string; readonly text: string; readonly input: unknown; readonly output: unknown; readonly engine: string }
  | { readonly type: 'stop'; readonly id: number };

type Reply =
  | { readonly type: 'validation'; readonly id: number; readonly result: Awaited<ReturnType<typeof validateInPage>> }
  | { readonly type: 'event'; readonly id: number; readonly event: RunEvent }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

// A worker's global scope, typed here: the project compiles against Node's types, not the DOM's.
interface WorkerScope {
  readonly location: { readonly href: string };
  postMessage(message: Reply): void;
  addEventListener(type: 'message', listener: (e: { readonly data: Request }) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
// Node's setImmediate, which the tile batcher waits a turn with (src/model/inference/batcher.ts): a zero timeout in a page.
const timers = globalThis as unknown as { setImmediate?: (f: () => void) => unknown };
timers.setImmediate ??= (f) => setTimeout(f, 0);
const models: ModelsRoot = new URL('./', scope.location.href);
// ONNX Runtime Web's wasm files: ort/ of the build.
ort.env.wasm.wasmPaths = new URL('./ort/', scope.location.href).href;
const stops = new Map<number, AbortController>();

scope.addEventListener('message', ({ data }) => {
  void serve(data).catch((error: unknown) => scope.postMessage({ type: 'error', id: data.id, message: (error as Error)?.message ?? String(error) }));
});

async function serve(request: Request): Promise<void> {
  switch (request.type) {
    case 'validate':
      return scope.postMessage({ type: 'validation', id: request.id, result: await validateInPage(request, models) });
    case 'stop':
      return void stops.get(request.id)?.abort();
    case 'run': {
      const stop = new AbortController();
      stops.set(request.id, stop);
      try {
        const emit = (event: RunEvent) => scope.postMessage({ type: 'event', id: request.id, event });
        await runPipelineInPage(
          { pipeline: request, input: request.input as DirectoryHandle, output: request.output as DirectoryHandle, models, engine: request.engine as EngineChoice, ort: ort as unknown as OrtWebModule, signal: stop.signal },
          emit,
        );
        scope.postMessage({ type: 'end', id: request.id });
      } finally {
        stops.delete(request.id);
      }
      return;
    }
  }
}
