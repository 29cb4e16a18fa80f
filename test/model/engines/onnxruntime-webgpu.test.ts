/**
 * ONNX Runtime's WebGPU provider against its CPU provider. In CI the adapter is Mesa's
 * lavapipe (a CPU Vulkan driver that .ci/run installs): the same shaders a GPU runs, at
 * 10-35 µs per input pixel, so the tiles here are small (188 px, the smallest the
 * depth-4 shipped model takes; 60 px for the 64-filter network, of depth 2) and the
 * bioimage.io example runs once at its fixed 512 px.
 * test/cli/onnxruntime-webgpu.test.ts runs a large image through the binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPredictor, useInferenceBackend, usePackageBackend, type InferenceBackend } from '../../../src/model/engines/choice.js';
import { dawnAdapter as webGpuAdapter } from '../../../src/model/engines/dawn.js';
import { toFloat32 } from '../../../src/image/convert.js';
import { readImage } from '../../../src/io/read.js';
import { npyToFloat32, readNpy } from '../../../src/io/npy.js';
import { openPackage } from '../../../src/model/bioimageio/package.js';
import { openPackageSession, predictSample } from '../../../src/model/bioimageio/session.js';
import { loadModel } from '../../../src/model/store.js';
import { UNet, unetConfig } from '../../../src/model/network/unet.js';
import { needsWebGpu, unavailable } from '../../helpers/optional.js';

const skip = unavailable('onnxruntime-node') ?? (await needsWebGpu()).skip;
const SIZE = 188;

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Two 188 px tiles cut from an ISBI 2012 test slice, normalised as the shipped model's metadata says. */
async function slices(): Promise<Float32Array> {
  const image = toFloat32(await readImage('fixtures/isbi2012/test/00.png'), { method: 'dtype' });
  const out = new Float32Array(2 * SIZE * SIZE);
  for (const [n, [top, left]] of [[0, 0], [200, 260]].entries()) {
    for (let y = 0; y < SIZE; y++) out.set(image.data.subarray((top + y) * image.width + left, (top + y) * image.width + left + SIZE), (n * SIZE + y) * SIZE);
  }
  return out;
}

/** The top-left `size` px of each of `count` tiles of SIZE px. */
function crop(images: Float32Array, count: number, size: number): Float32Array {
  const out = new Float32Array(count * size * size);
  for (let n = 0; n < count; n++) for (let y = 0; y < size; y++) out.set(images.subarray((n * SIZE + y) * SIZE, (n * SIZE + y) * SIZE + size), (n * size + y) * size);
  return out;
}

/** The probabilities of `make()`'s network for `images` on each backend. */
async function onEach(backends: InferenceBackend[], make: () => Promise<UNet>, images: Float32Array, count: number, size = SIZE): Promise<Float32Array[]> {
  const results: Float32Array[] = [];
  for (const backend of backends) {
    const predictor = await openPredictor(await make(), backend, 2, 'test');
    try {
      results.push(await predictor.predict(images, count, size, 'none'));
    } finally {
      await predictor.close();
    }
  }
  return results;
}

test('onnxruntime-webgpu runs on the adapter Dawn names, software or not; auto and onnxruntime pass a software one over, naming it', { skip }, async () => {
  const adapter = await webGpuAdapter();
  assert.ok(adapter, 'Dawn names an adapter');
  const forced = await useInferenceBackend('onnxruntime-webgpu');
  assert.deepEqual([forced.engine, forced.info.provider, forced.info.skipped], ['onnxruntime', 'webgpu', []]);
  assert.deepEqual(forced.info.adapter, adapter);
  assert.ok(adapter.maxStorageBufferBindingSize! > 0 && adapter.maxBufferSize! >= adapter.maxStorageBufferBindingSize!);
  if (!adapter.software) return;
  for (const choice of ['auto', 'onnxruntime'] as const) {
    const chosen = await useInferenceBackend(choice);
    assert.notEqual(chosen.info.provider, 'webgpu');
    assert.equal(chosen.info.skipped[0], `onnxruntime-webgpu: software adapter (${adapter.vendor} ${adapter.architecture}, ${adapter.description}), not chosen automatically`);
  }
});

test('the shipped model on ONNX Runtime\'s WebGPU provider equals its CPU provider within 1e-4 on two slices in one batch', { skip }, async () => {
  const backends = [await useInferenceBackend('onnxruntime-cpu'), await useInferenceBackend('onnxruntime-webgpu')];
  const images = await slices();
  const [cpu, gpu] = await onEach(backends, async () => (await loadModel('models/isbi2012-em')).model, images, 2);
  const d = maxDifference(gpu, cpu);
  assert.ok(d < 1e-4, `max difference ${d}`);
  assert.ok(Math.max(...cpu) - Math.min(...cpu) > 0.5, 'the slices give membranes and cells');
});

test('a 64-filter network on ONNX Runtime\'s WebGPU provider equals its CPU provider within 1e-4', { skip }, async () => {
  const backends = [await useInferenceBackend('onnxruntime-cpu'), await useInferenceBackend('onnxruntime-webgpu')];
  // Depth 2, so that its smallest tile (60 px, of a 188 px slice) costs lavapipe little.
  const config = unetConfig({ depth: 2, baseFilters: 64, classes: 2, inputChannels: 1, padding: 'valid', dropout: 0 });
  const images = (await slices()).subarray(0, 2 * SIZE * SIZE);
  const [cpu, gpu] = await onEach(backends, async () => UNet.create(config, 5), crop(images, 2, 60), 2, 60);
  const d = maxDifference(gpu, cpu);
  assert.ok(d < 1e-4, `max difference ${d}`);
});

test('a bioimage.io package runs on onnxruntime-webgpu and reproduces its test output', { skip }, async () => {
  const pkg = openPackage('../shared/data/bioimageio/unet2d_nuclei_broad');
  const backend = await usePackageBackend(pkg.where, 'onnxruntime-webgpu');
  assert.deepEqual([backend.info.provider, backend.info.adapter?.software], ['webgpu', (await webGpuAdapter())!.software]);
  const session = await openPackageSession(pkg, 2, backend.onnxruntime);
  try {
    const x = readNpy(pkg.read('test_input.npy'));
    const expected = npyToFloat32(readNpy(pkg.read('test_output.npy')));
    const y = await predictSample(session, { data: npyToFloat32(x), shape: x.shape, axes: session.inputAxes });
    const d = maxDifference(y.data, expected);
    assert.ok(d < 1e-4, `max difference ${d}`);
  } finally {
    await session.release();
  }
});
