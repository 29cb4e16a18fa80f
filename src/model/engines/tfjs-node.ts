/**
 * TensorFlow's own C library through `@tensorflow/tfjs-node` (CPU) or
 * `@tensorflow/tfjs-node-gpu` (CUDA and cuDNN). Both are optional dependencies whose
 * install downloads libtensorflow, and which npm drops silently where it cannot: they
 * are imported through optional.ts. Native TensorFlow threads every operator itself,
 * so one engine (this thread) is the default.
 */
import { importOptional, type OptionalPackage } from './optional.js';
import { DEFAULT_CHUNK_BYTES, type TfjsEngine } from './engine.js';
import { setTfjsBackend } from './tfjs.js';

function tensorflow(name: 'node' | 'node-gpu', pkg: OptionalPackage): TfjsEngine {
  return {
    name,
    backendName: 'tensorflow',
    package: pkg,
    gpu: name === 'node-gpu',
    replicas: true,
    defaultThreads: () => 1,
    ownBudget: () => DEFAULT_CHUNK_BYTES,
    load: async () => {
      await importOptional(pkg);
      await setTfjsBackend('tensorflow');
      return {};
    },
  };
}

export const node = tensorflow('node', '@tensorflow/tfjs-node');
export const nodeGpu = tensorflow('node-gpu', '@tensorflow/tfjs-node-gpu');
