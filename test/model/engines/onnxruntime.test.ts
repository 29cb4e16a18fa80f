import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend, useInferenceBackend } from '../../../src/model/engines/choice.js';
import { importOnnxRuntime, loadOnnxRuntime } from '../../../src/model/engines/onnxruntime.js';
import { importOptional } from '../../../src/model/engines/optional.js';
import { needs, unavailable } from '../../helpers/optional.js';

/** The package as UNETFLOW_WITHOUT makes it look: absent, whether or not it is installed. */
const disabled = () => importOptional('onnxruntime-node', { UNETFLOW_WITHOUT: 'onnxruntime-node' });

test('onnxruntime-node loads, passes its probe and names its version', needs('onnxruntime-node'), async () => {
  const ort = await loadOnnxRuntime();
  assert.match(ort.version, /^1\.\d+\.\d+$/);
});

test('the package is found under default too (CommonJS interop)', needs('onnxruntime-node'), async () => {
  const ort = await loadOnnxRuntime(async () => ({ default: await importOnnxRuntime() }));
  assert.match(ort.version, /^1\./);
});

test('a module without the ONNX Runtime API is refused, and a disabled package reads as not installed', async () => {
  await assert.rejects(loadOnnxRuntime(async () => ({})), /onnxruntime-node does not export InferenceSession and Tensor/);
  await assert.rejects(loadOnnxRuntime(disabled), { name: 'PackageMissing', message: 'onnxruntime-node: not installed (UNETFLOW_WITHOUT)' });
});

test('auto runs inference on a GPU backend where tfjs finds one, else on ONNX Runtime where it is installed and enabled, else on tfjs naming why not', async () => {
  const engine = await useInferenceBackend('auto');
  const tfjs = await useBackend('auto');
  // ONNX Runtime's GPU providers (WebGPU on a hardware adapter, CUDA) come before everything.
  if (engine.info.provider === 'webgpu' || engine.info.provider === 'cuda') {
    assert.equal(engine.info.adapter?.software, engine.info.provider === 'webgpu' ? false : undefined);
    return;
  }
  // A hardware GPU (tfjs-node-gpu, or WebGPU on a hardware adapter) comes before ONNX Runtime.
  if (tfjs.name === 'webgpu' || tfjs.package === '@tensorflow/tfjs-node-gpu') {
    assert.deepEqual([engine.engine, engine.info.name, engine.info.package], ['tfjs', tfjs.name, tfjs.package]);
    return;
  }
  const missing = unavailable('onnxruntime-node');
  if (!missing) {
    assert.equal(engine.engine, 'onnxruntime', `skipped: ${engine.info.skipped.join('; ')}`);
    assert.deepEqual([engine.info.name, engine.info.package, engine.info.choice], ['onnxruntime', 'onnxruntime-node', 'auto']);
    assert.deepEqual(engine.info.skipped.map((s) => s.split(':')[0]), ['onnxruntime-webgpu', 'onnxruntime-cuda', 'node-gpu', 'webgpu']);
    assert.equal(engine.info.provider, 'cpu');
    return;
  }
  assert.equal(engine.engine, 'tfjs');
  assert.equal(engine.info.name, tfjs.name);
  const reason = missing.endsWith('UNETFLOW_WITHOUT') ? 'not installed (UNETFLOW_WITHOUT)' : 'not installed';
  assert.equal(engine.info.skipped[2], `onnxruntime: ${reason}`);
  await assert.rejects(useInferenceBackend('onnxruntime'), { message: `backend 'onnxruntime' is not available: onnxruntime-node: ${reason}` });
});

test('auto falls back to tfjs when onnxruntime-node is missing, saying why in one line', async () => {
  const engine = await useInferenceBackend('auto', disabled);
  assert.equal(engine.engine, 'tfjs');
  const tfjs = await useBackend('auto');
  assert.equal(engine.info.name, tfjs.name);
  if (tfjs.name === 'webgpu' || tfjs.package === '@tensorflow/tfjs-node-gpu') return; // a hardware GPU: ONNX Runtime was never asked
  // The GPU backends, which auto prefers to ONNX Runtime, then ONNX Runtime, then the rest of tfjs's.
  assert.deepEqual(engine.info.skipped.slice(0, 2).map((s) => s.split(':')[0]), ['node-gpu', 'webgpu']);
  assert.equal(engine.info.skipped[2], 'onnxruntime: not installed (UNETFLOW_WITHOUT)');
  assert.deepEqual(engine.info.skipped.slice(3), tfjs.skipped.filter((s) => !/^(node-gpu|webgpu):/.test(s)));
  for (const s of engine.info.skipped) assert.doesNotMatch(s, /\n/);
});

test('forcing onnxruntime fails with the reason when it cannot load; a tfjs name never uses it', async () => {
  await assert.rejects(useInferenceBackend('onnxruntime', disabled), {
    message: "backend 'onnxruntime' is not available: onnxruntime-node: not installed (UNETFLOW_WITHOUT)",
  });
  const wasm = await useInferenceBackend('wasm');
  assert.deepEqual([wasm.engine, wasm.info.name], ['tfjs', 'wasm']);
});

test('forcing onnxruntime uses it where it is installed, on the first provider that loads, naming why each before it was skipped', needs('onnxruntime-node'), async () => {
  const forced = await useInferenceBackend('onnxruntime');
  assert.deepEqual([forced.engine, forced.info.choice], ['onnxruntime', 'onnxruntime']);
  const order = ['webgpu', 'cuda', 'cpu'];
  const at = order.indexOf(forced.info.provider!);
  assert.deepEqual(forced.info.skipped.map((s) => s.split(':')[0]), order.slice(0, at).map((p) => `onnxruntime-${p}`));
});

test('forcing ONNX Runtime\'s CPU provider uses it with nothing skipped', needs('onnxruntime-node'), async () => {
  const forced = await useInferenceBackend('onnxruntime-cpu');
  assert.deepEqual([forced.engine, forced.info.provider, forced.info.skipped, forced.info.adapter], ['onnxruntime', 'cpu', [], undefined]);
});

test('training asked for onnxruntime (a run-wide --backend) takes tfjs\'s automatic choice and says so', async () => {
  const info = await useBackend('onnxruntime' as never);
  assert.equal(info.skipped[0], 'onnxruntime: inference only');
  assert.equal(info.name, (await useBackend('auto')).name);
});
