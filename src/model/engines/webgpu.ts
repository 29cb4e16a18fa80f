/**
 * The tfjs WebGPU backend in Node: Dawn (the `webgpu` package) provides `navigator.gpu`,
 * and `@tensorflow/tfjs-backend-webgpu` runs tfjs's WGSL shaders on whatever adapter
 * Dawn finds — a GPU through Vulkan / Metal / D3D12, or a CPU through a software Vulkan
 * driver (Mesa's lavapipe), which is how CI runs this path without a GPU.
 *
 * Both packages are optional (optional.ts). It runs in one thread on one device: the
 * replica protocol reads tensors synchronously, and replicas would share the device.
 * `auto` never takes a software adapter (Mesa's lavapipe, SwiftShader): it is correct
 * but 3-16x slower than wasm on the same CPU (bench/unet.bench.ts's webgpu entries on
 * lavapipe); named (`--backend webgpu`) it takes any adapter and reports which.
 *
 * Three things are specific to Node:
 * - tfjs-backend-webgpu registers itself only if `navigator.gpu` exists when it is
 *   imported, so Dawn goes first;
 * - tensors computed on the GPU cannot be read synchronously (`dataSync()` needs
 *   OffscreenCanvas, which Node lacks): predict and trainStep read with `data()`;
 * - Dawn prints two "maxDynamic…BuffersPerPipelineLayout artificially reduced" warnings
 *   on stderr from native code when it opens a Vulkan device such as lavapipe's. They
 *   are harmless, and cannot be caught from JavaScript.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CHUNK_BYTES, type GpuAdapter, type TfjsEngine } from './engine.js';
import { dawnAdapter } from './dawn.js';
import { importOptional } from './optional.js';

export const webgpu: TfjsEngine = {
  name: 'webgpu',
  backendName: 'webgpu',
  package: '@tensorflow/tfjs-backend-webgpu',
  gpu: true,
  replicas: false,
  defaultThreads: () => 1,
  ownBudget: () => DEFAULT_CHUNK_BYTES,
  load: async (auto) => {
    if (auto) {
      // Refused before switching to it.
      const { adapter } = await openGpu();
      if (adapter.software) throw new Error(`software adapter (${adapter.vendor}, ${adapter.description}), not chosen automatically`);
    }
    return { adapter: await setWebGpu() };
  },
};

/**
 * Dawn's adapter (dawn.ts). Throws PackageMissing (optional.ts) where `webgpu` is
 * missing, or an error saying that Dawn found no adapter.
 */
async function openGpu(): Promise<{ adapter: GpuAdapter }> {
  const found = await dawnAdapter();
  if (!found) throw new Error('Dawn found no WebGPU adapter (no Vulkan, Metal or D3D12 driver; without a GPU, Linux can use Mesa >= 25 lavapipe)');
  // The limits are ONNX Runtime's concern (its batches); tfjs's backend line names the adapter alone.
  const { maxBufferSize: _buffer, maxStorageBufferBindingSize: _binding, ...adapter } = found;
  return { adapter };
}

/** Switches tfjs to webgpu on the adapter `openGpu` found. */
async function setWebGpu(): Promise<GpuAdapter> {
  const { adapter } = await openGpu();
  // It registers its backend only where navigator.gpu exists when it is imported.
  await importOptional('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error(`tfjs backend 'webgpu' failed to initialise on the ${adapter.vendor} ${adapter.architecture} adapter (${adapter.description})`);
  await tf.ready();
  // By default tfjs computes small ops whose inputs are still in host memory on its cpu
  // backend: here every kernel runs on the adapter, so that the path tested is the GPU's.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  return adapter;
}
