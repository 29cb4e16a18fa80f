/**
 * tfjs's plain JavaScript backend: always there, the slowest, and the reference the
 * other engines' kernels are tested against. One core per engine, so replicas in
 * worker threads use the others.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_CHUNK_BYTES, type TfjsEngine } from './engine.js';
import { setTfjsBackend } from './tfjs.js';

export const cpu: TfjsEngine = {
  name: 'cpu',
  backendName: 'cpu',
  package: '@tensorflow/tfjs (cpu)',
  gpu: false,
  replicas: true,
  defaultThreads: () => availableParallelism(),
  ownBudget: () => DEFAULT_CHUNK_BYTES,
  load: async () => {
    await setTfjsBackend('cpu');
    return {};
  },
};
