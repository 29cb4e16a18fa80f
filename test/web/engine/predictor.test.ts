/**
 * The page's engine (src/web/engine) in Node, on onnxruntime-web's wasm backend: the
 * shipped model read from its files' bytes gives the probabilities onnxruntime-node
 * gives (the CLI's engine) on the bundled demo slices, with and without test-time
 * augmentation, and reports where it runs as the CLI's backend event does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../../../src/model/engines/choice.js';
import { backendEvent, backendLine } from '../../../src/model/engines/report.js';
import { loadOnnxRuntime, openOnnxPredictor } from '../../../src/model/engines/onnxruntime.js';
import { sizeMap } from '../../../src/model/network/geometry.js';
import { loadModel } from '../../../src/model/store.js';
import { readImage } from '../../../src/io/read.js';
import { describeAdapter } from '../../../src/web/engine/adapter.js';
import { readUNetFiles, type ModelFileSource } from '../../../src/web/engine/model.js';
import { openWebPredictor, type OrtWebModule } from '../../../src/web/engine/predictor.js';
import { needs } from '../../helpers/optional.js';

const MODEL = 'models/isbi2012-em';
const files: ModelFileSource = { name: MODEL, read: async (file) => new Uint8Array(await readFile(join(MODEL, file))) };
const ortWeb = async () => (await import('onnxruntime-web')) as unknown as OrtWebModule;

/** A `size` px crop of a demo slice at (`at`, `at`), normalised as the model's metadata says (dtype: / 255). */
async function crop(slice: string, size: number, at: number): Promise<Float32Array> {
  const image = await readImage(join('fixtures/isbi2012/test', slice));
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = image.data[(y + at) * image.width + x + at] / 255;
  return out;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'same number of values');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

test('the shipped model on onnxruntime-web wasm gives onnxruntime-node\'s probabilities on the demo slices, with and without test-time augmentation', needs('onnxruntime-node'), async () => {
  await useBackend('wasm');
  const size = 188; // a valid input of the model (depth 4, valid convolutions): 4 px of output
  const out = sizeMap(size, (await readUNetFiles(files)).config).output;
  const { predictor: web, backend } = await openWebPredictor(files, { ort: await ortWeb(), backend: 'wasm', crossOriginIsolated: false });
  const node = await openOnnxPredictor((await loadModel(MODEL)).model, await loadOnnxRuntime(), { threads: 1, name: MODEL });
  try {
    assert.equal(backend.name, 'wasm');
    assert.match(web.description, /^onnxruntime-web 1\.30\.0, wasm SIMD, 1 thread \(the page is not cross-origin isolated\)$/);
    for (const slice of ['00.png', '01.png', '02.png']) {
      const x = await crop(slice, size, 100);
      for (const tta of slice === '00.png' ? (['none', 'flips', 'dihedral'] as const) : (['none'] as const)) {
        const [got, expected] = [await web.predict(x, 1, size, tta), await node.predict(x, 1, size, tta)];
        assert.equal(got.length, out * out * 2, `${slice} ${tta}: ${out}x${out}x2 values`);
        const d = maxDifference(got, expected);
        assert.ok(d < 1e-4, `${slice}, ${tta}: max difference ${d}`);
        assert.ok(expected.some((v) => v > 0.9) && expected.some((v) => v < 0.1), `${slice}: a segmentation, not a constant`);
      }
    }
    // Two tiles in one call, in chunks of one tile (a budget smaller than a tile): the same as one by one.
    const two = new Float32Array(2 * size * size);
    two.set(await crop('01.png', size, 0));
    two.set(await crop('02.png', size, 200), size * size);
    const { predictor: chunked } = await openWebPredictor(files, { ort: await ortWeb(), backend: 'wasm', crossOriginIsolated: false, budgetBytes: 1 });
    try {
      assert.ok(maxDifference(await chunked.predict(two, 2, size, 'flips'), await node.predict(two, 2, size, 'flips')) < 1e-4);
    } finally {
      await chunked.close();
    }
  } finally {
    await web.close();
    await node.close();
  }
});

test('auto without navigator.gpu runs on wasm and says why WebGPU was skipped, in the backend event the CLI emits', async () => {
  const { predictor, backend } = await openWebPredictor(await readUNetFiles(files), { ort: await ortWeb(), crossOriginIsolated: false });
  try {
    assert.deepEqual([backend.choice, backend.engine, backend.name, backend.package], ['auto', 'onnxruntime', 'wasm', 'onnxruntime-web']);
    assert.equal(backend.skipped.length, 1);
    assert.match(backend.skipped[0], /^webgpu: navigator\.gpu is absent/);
    assert.equal(backendLine(backendEvent('unet', backend, 1)), 'wasm (onnxruntime-web, 1 worker)');
  } finally {
    await predictor.close();
  }
  await assert.rejects(openWebPredictor(files, { ort: await ortWeb(), backend: 'webgpu' }), /^Error: webgpu: navigator\.gpu is absent/);
  await assert.rejects(openWebPredictor(files, { ort: await ortWeb(), backend: 'cpu' as never }), /backend 'cpu' does not run in a page: expected one of auto, webgpu, wasm/);
});

test('adapters are described as the CLI describes them, SwiftShader and fallback adapters as software', () => {
  // What Chromium's headless SwiftShader adapter and a discrete GPU report in GPUAdapterInfo.
  assert.deepEqual(describeAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: '' }), { vendor: 'google', architecture: 'swiftshader', description: 'google swiftshader', software: true });
  assert.equal(describeAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100' }).software, false);
  assert.equal(describeAdapter({ vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: true }).software, true);
  assert.equal(describeAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).software, true);
});

test('a damaged model folder is refused naming the file', async () => {
  const bin = 'weights.90d3d23d1cbfa200.bin';
  const cut: ModelFileSource = { name: MODEL, read: async (file) => (await files.read(file)).subarray(0, file === bin ? 1000 : undefined) };
  await assert.rejects(readUNetFiles(cut), new RegExp(`${MODEL}/${bin.replace(/\./g, '\\.')}: the file is corrupt: its sha256 begins [0-9a-f]{16}, its name says 90d3d23d1cbfa200`));
  const notJson: ModelFileSource = { name: MODEL, read: async (file) => (file === 'model.json' ? new TextEncoder().encode('{') : files.read(file)) };
  await assert.rejects(readUNetFiles(notJson), /models\/isbi2012-em\/model\.json: .*is this a unetflow model folder\?/);
});

test('onnxruntime-web serves as the OnnxRuntime bioimage.io sessions take, running the exported U-Net', async () => {
  const { asOnnxRuntime } = await import('../../../src/web/engine/predictor.js');
  const runtime = asOnnxRuntime(await ortWeb(), 'wasm');
  assert.match(runtime.version, /^onnxruntime-web 1\.30\.0 \(wasm\)$/);
  const unet = await readUNetFiles(files);
  const session = await runtime.createSession(unet.onnx, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  try {
    const out = await session.run({ [session.inputNames[0]]: runtime.floatTensor(new Float32Array(188 * 188).fill(0.5), [1, 1, 188, 188]) });
    const y = out[session.outputNames[0]];
    assert.deepEqual(y.dims, [1, 2, 4, 4]);
    const p = y.data as Float32Array;
    for (let i = 0; i < 16; i++) assert.ok(Math.abs(p[i] + p[16 + i] - 1) < 1e-5, 'softmax over the two classes');
  } finally {
    await session.release();
  }
});
