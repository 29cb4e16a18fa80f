/**
 * Backend selection. tfjs keeps one engine per process (per worker thread), so the
 * backend is process-wide state: choose it once, before building a model.
 *
 * Preference: tfjs-node-gpu, tfjs-node (optional dependencies that npm drops
 * silently where libtensorflow cannot be fetched, so they are imported dynamically
 * and their absence is not an error), then wasm (with the gradient kernels it lacks
 * registered), then cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from './wasm-kernels.js';

export const backendChoices = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];

export interface BackendInfo {
  /** What was asked for. */
  readonly choice: BackendChoice;
  /** The tfjs backend name in use: `tensorflow`, `wasm` or `cpu`. */
  readonly name: string;
  /** The package providing it, for reports, e.g. `@tensorflow/tfjs-backend-wasm`. */
  readonly package: string;
  /** Why each preferred backend was skipped (auto), in order. */
  readonly skipped: readonly string[];
}

type Loader = () => Promise<{ name: string; package: string }>;

// A variable specifier keeps TypeScript from requiring the optional packages' types.
const importOptional = (specifier: string): Promise<unknown> => import(specifier);

const loaders: Record<Exclude<BackendChoice, 'auto'>, Loader> = {
  'node-gpu': async () => {
    await importOptional('@tensorflow/tfjs-node-gpu');
    await setOrThrow('tensorflow');
    return { name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu' };
  },
  node: async () => {
    await importOptional('@tensorflow/tfjs-node');
    await setOrThrow('tensorflow');
    return { name: 'tensorflow', package: '@tensorflow/tfjs-node' };
  },
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmKernels();
    await setOrThrow('wasm');
    return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm' };
  },
  cpu: async () => {
    await setOrThrow('cpu');
    return { name: 'cpu', package: '@tensorflow/tfjs (cpu)' };
  },
};

async function setOrThrow(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
  await tf.ready();
}

let current: Promise<BackendInfo> | undefined;
let currentChoice: BackendChoice | undefined;

/**
 * Selects the backend (once per process or worker; later calls with the same choice
 * return the same answer, a different one switches). A forced choice that cannot
 * load throws, naming why.
 */
export function useBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (current && currentChoice === choice) return current;
  currentChoice = choice;
  current = select(choice);
  current.catch(() => {
    current = undefined;
    currentChoice = undefined;
  });
  return current;
}

async function select(choice: BackendChoice): Promise<BackendInfo> {
  if (choice !== 'auto') {
    try {
      return { choice, skipped: [], ...(await loaders[choice]()) };
    } catch (error) {
      throw new Error(`backend '${choice}' is not available: ${(error as Error).message}`, { cause: error });
    }
  }
  const skipped: string[] = [];
  for (const name of ['node-gpu', 'node', 'wasm', 'cpu'] as const) {
    try {
      return { choice, skipped, ...(await loaders[name]()) };
    } catch (error) {
      skipped.push(`${name}: ${firstLine((error as Error).message)}`);
    }
  }
  throw new Error(`no tfjs backend could be loaded:\n  ${skipped.join('\n  ')}`);
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
