import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend, useInferenceBackend } from '../../../src/model/backend.js';
import { importOnnxRuntime, loadOnnxRuntime } from '../../../src/model/onnx/runtime.js';

/** What a dynamic import of a package npm left out rejects with. */
const absent = () => Promise.reject(new Error("Cannot find package 'onnxruntime-node' imported from /app/src/model/onnx/runtime.js"));

test('onnxruntime-node loads, passes its probe and names its version', async () => {
  const ort = await loadOnnxRuntime();
  assert.match(ort.version, /^1\.\d+\.\d+$/);
});

test('the package is found under default too (CommonJS interop), and a module without its API is refused', async () => {
  const ort = await loadOnnxRuntime(async () => ({ default: await importOnnxRuntime() }));
  assert.match(ort.version, /^1\./);
  await assert.rejects(loadOnnxRuntime(async () => ({})), /onnxruntime-node does not export InferenceSession and Tensor/);
  await assert.rejects(loadOnnxRuntime(absent), /Cannot find package 'onnxruntime-node'/);
});

test('auto runs inference on ONNX Runtime where it loads, after tfjs-node-gpu', async () => {
  const engine = await useInferenceBackend('auto');
  assert.equal(engine.engine, 'onnxruntime', `skipped: ${engine.info.skipped.join('; ')}`);
  assert.deepEqual([engine.info.name, engine.info.package, engine.info.choice], ['onnxruntime', 'onnxruntime-node', 'auto']);
  assert.deepEqual(engine.info.skipped.map((s) => s.split(':')[0]), ['node-gpu']);
});

test('auto falls back to tfjs when onnxruntime-node cannot be imported, saying why', async () => {
  const engine = await useInferenceBackend('auto', absent);
  assert.equal(engine.engine, 'tfjs');
  const tfjs = await useBackend('auto');
  assert.equal(engine.info.name, tfjs.name);
  assert.deepEqual(engine.info.skipped[0].split(':')[0], 'node-gpu');
  assert.match(engine.info.skipped[1], /^onnxruntime: Cannot find package 'onnxruntime-node'/);
  assert.deepEqual(engine.info.skipped.slice(2), tfjs.skipped.filter((s) => !s.startsWith('node-gpu:')));
});

test('forcing onnxruntime fails with the reason when it cannot load; a tfjs name never uses it', async () => {
  await assert.rejects(useInferenceBackend('onnxruntime', absent), /backend 'onnxruntime' is not available: Cannot find package 'onnxruntime-node'/);
  const forced = await useInferenceBackend('onnxruntime');
  assert.deepEqual([forced.engine, forced.info.choice, forced.info.skipped], ['onnxruntime', 'onnxruntime', []]);
  const wasm = await useInferenceBackend('wasm');
  assert.deepEqual([wasm.engine, wasm.info.name], ['tfjs', 'wasm']);
});

test('training asked for onnxruntime (a run-wide --backend) takes tfjs\'s automatic choice and says so', async () => {
  const info = await useBackend('onnxruntime' as never);
  assert.equal(info.skipped[0], 'onnxruntime: inference only');
  assert.equal(info.name, (await useBackend('auto')).name);
});
