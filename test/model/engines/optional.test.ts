import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importOptional, optionalPackages, withoutPackages } from '../../../src/model/engines/optional.js';
import { useBackend } from '../../../src/model/engines/choice.js';
import { unavailable } from '../../helpers/optional.js';

test('UNETFLOW_WITHOUT is a comma-separated list of the optional packages, spaces allowed', () => {
  assert.deepEqual([...withoutPackages({})], []);
  assert.deepEqual([...withoutPackages({ UNETFLOW_WITHOUT: '' })], []);
  assert.deepEqual([...withoutPackages({ UNETFLOW_WITHOUT: ' onnxruntime-node , @tensorflow/tfjs-node,' })], ['onnxruntime-node', '@tensorflow/tfjs-node']);
});

test('a name in UNETFLOW_WITHOUT that is not an optional package is refused, naming the valid ones', async () => {
  const expected = /UNETFLOW_WITHOUT: 'onnxruntime' is not an optional package; expected some of onnxruntime-node, @tensorflow\/tfjs-node, @tensorflow\/tfjs-node-gpu/;
  assert.throws(() => withoutPackages({ UNETFLOW_WITHOUT: 'onnxruntime' }), expected);
  await assert.rejects(importOptional('onnxruntime-node', { UNETFLOW_WITHOUT: 'onnxruntime' }), expected);
});

test('a disabled package reads as not installed, whether or not it is', async () => {
  for (const name of optionalPackages) {
    await assert.rejects(importOptional(name, { UNETFLOW_WITHOUT: name }), { name: 'PackageMissing', packageName: name, reason: 'not installed (UNETFLOW_WITHOUT)' });
  }
});

test('each optional package imports where it resolves and reads as not installed where it does not', async () => {
  for (const name of optionalPackages) {
    // Where a package is disabled in this run, ask as if nothing were: the import itself is under test.
    const really = unavailable(name)?.endsWith('not installed');
    const imported = importOptional(name, {});
    if (really) await assert.rejects(imported, { name: 'PackageMissing', message: `${name}: not installed` });
    else await assert.doesNotReject(imported.catch((error: Error) => (error.name === 'PackageMissing' ? Promise.reject(error) : undefined)));
  }
  await useBackend('wasm'); // importing tfjs-node (where it is installed) switches the backend
});

test('tfjs auto skips the disabled tfjs-node and WebGPU packages with a one-line reason', async () => {
  await useBackend('wasm'); // so that auto is chosen again, under the variable
  const before = process.env.UNETFLOW_WITHOUT;
  process.env.UNETFLOW_WITHOUT = '@tensorflow/tfjs-node,@tensorflow/tfjs-node-gpu,webgpu';
  try {
    const info = await useBackend('auto');
    assert.deepEqual(info.skipped.slice(0, 3), ['node-gpu: not installed (UNETFLOW_WITHOUT)', 'webgpu: not installed (UNETFLOW_WITHOUT)', 'node: not installed (UNETFLOW_WITHOUT)']);
    assert.equal(info.name, 'wasm');
    await assert.rejects(useBackend('node'), { message: "backend 'node' is not available: @tensorflow/tfjs-node: not installed (UNETFLOW_WITHOUT)" });
  } finally {
    if (before === undefined) delete process.env.UNETFLOW_WITHOUT;
    else process.env.UNETFLOW_WITHOUT = before;
  }
});
