/**
 * A replica thread (a worker_threads entry) holding one replica of the network and its
 * optimiser on its own tfjs engine: the one the pool's thread resolved to, loaded by
 * name, never chosen again. The wasm backend is single-threaded in Node, so replicas
 * are how unetflow uses every core. Messages: see pool.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { memoryBudget, useBackend } from '../engines/choice.js';
import type { TfjsEngineName } from '../engines/engine.js';
import type { Augmentation } from '../inference/augmentation.js';
import { predictProbabilities } from '../inference/predict.js';
import { Trainer, type Batch, type Gradients, type TrainerOptions } from '../training/trainer.js';
import { UNet, weightSpecs, type UNetConfig } from '../network/unet.js';
import type { ReplicaFailure } from './pool.js';

interface Init {
  /** The engine to load: the one the pool's thread resolved to. */
  readonly engine: TfjsEngineName;
  readonly config: UNetConfig;
  readonly weights: [string, Float32Array][];
  readonly trainer?: TrainerOptions;
  readonly optimizerState?: readonly { shape: number[]; data: Float32Array }[];
  /** Replicas in the pool: engines that share the machine's memory. */
  readonly engines: number;
}

type Request =
  | { id: number; kind: 'gradients'; batch: Batch; normaliser: number }
  | { id: number; kind: 'apply'; gradients: [string, Float32Array][] }
  | { id: number; kind: 'predict'; images: Float32Array; count: number; size: number; height?: number; tta: Augmentation; passes?: [number, number] }
  | { id: number; kind: 'weights' }
  | { id: number; kind: 'optimizer-state' }
  | { id: number; kind: 'info' }
  /** Makes this replica's wasm runtime abort, as a failed allocation does (tests the pool's recovery). */
  | { id: number; kind: 'abort' };

const init = workerData as Init;
const port = parentPort!;

// emscripten reports an abort (`Aborted(...)`) on console.warn before it throws: that
// belongs in the failed request's detail, not on the terminal.
let runtimeNotes: string[] = [];
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } }).WebAssembly.RuntimeError;
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('Aborted(')) runtimeNotes.push(args.join(' '));
  else warn(...args);
};
const ready = (async () => {
  const backend = await useBackend(init.engine);
  const shapes = new Map(weightSpecs(init.config).map((s) => [s.name, s.shape]));
  const tensors = Object.fromEntries(init.weights.map(([name, data]) => [name, tf.tensor(data, shapes.get(name))]));
  const model = UNet.fromTensors(init.config, tensors);
  tf.dispose(tensors); // the model's variables hold copies
  const trainer = init.trainer ? new Trainer(model, init.trainer) : undefined;
  if (trainer && init.optimizerState) await trainer.restoreOptimizerState(init.optimizerState);
  return { backend, model, trainer };
})();

port.on('message', async (request: Request) => {
  try {
    const { model, trainer, backend } = await ready;
    switch (request.kind) {
      case 'gradients': {
        if (!trainer) throw new Error('this replica was started for inference only');
        const { loss, gradients } = trainer.gradients(request.batch, request.normaliser);
        const list = [...gradients.entries()].map(([n, g]) => [n, Float32Array.from(g)] as [string, Float32Array]);
        port.postMessage({ id: request.id, loss, gradients: list }, list.map(([, g]) => g.buffer as ArrayBuffer));
        break;
      }
      case 'apply': {
        if (!trainer) throw new Error('this replica was started for inference only');
        const result = trainer.apply(new Map(request.gradients) as Gradients);
        port.postMessage({ id: request.id, ...result });
        break;
      }
      case 'predict': {
        const p = await predictProbabilities(model, request.images, request.count, request.size, request.tta, {
          height: request.height,
          passes: request.passes,
          budgetBytes: memoryBudget(init.engine, { engines: init.engines, weightBytes: 4 * model.parameterCount }),
        });
        const copy = Float32Array.from(p);
        port.postMessage({ id: request.id, probabilities: copy, backend: backend.name }, [copy.buffer]);
        break;
      }
      case 'weights': {
        const list = [...model.weights.entries()].map(([n, v]) => [n, Float32Array.from(v.dataSync())]);
        port.postMessage({ id: request.id, weights: list });
        break;
      }
      case 'optimizer-state': {
        if (!trainer) throw new Error('this replica was started for inference only');
        port.postMessage({ id: request.id, state: await trainer.optimizerState() });
        break;
      }
      case 'info':
        port.postMessage({ id: request.id, backend: backend.name });
        break;
      case 'abort': {
        // A kernel asked for a tensor that does not exist: the runtime aborts, as on a failed allocation.
        const wasm = (tf.backend() as { wasm?: { _Relu?: (x: number, dtype: number, out: number) => void } }).wasm;
        if (!wasm?._Relu) throw new Error(`backend ${backend.name} has no wasm runtime to abort`);
        wasm._Relu(-1, 0, -1);
        throw new Error('the wasm runtime did not abort');
      }
    }
  } catch (error) {
    port.postMessage({ id: request.id, error: failure(error) });
  }
});

/** A failed request as the pool takes it (ReplicaFailure): one line, the rest as detail. */
function failure(error: unknown): ReplicaFailure {
  const e = error instanceof Error ? error : new Error(String(error));
  const detail = [e.stack ?? `${e.name}: ${e.message}`, ...runtimeNotes].join('\n');
  runtimeNotes = [];
  // emscripten's advice to rebuild the runtime is no use to a user: it stays in the detail.
  const message = e.message.split('\n')[0].replace(/\.? Build with -sASSERTIONS for more info\.$/, '');
  // A trap or an abort inside WebAssembly leaves the engine's heap in an unknown state.
  return { name: e.name, message, detail, fatal: error instanceof WasmRuntimeError };
}
