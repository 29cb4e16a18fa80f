import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { memoryBudget, plannedBudget, useBackend, useInferenceBackend } from '../../../src/model/engines/choice.js';
import { lavapipeInstalled, unavailable } from '../../helpers/optional.js';
import { ONNX_RUNTIME_FACTOR } from '../../../src/model/engines/onnxruntime.js';
import { WASM_HEAP_BYTES } from '../../../src/model/engines/wasm.js';

test('the budget leaves a wasm heap room for the weights twice, shrinks with the engines sharing the machine, and is 2 GiB where there is no ceiling', () => {
  const half = totalmem() / 2;
  const paper = 4 * 31_030_658;
  assert.equal(memoryBudget('wasm', { weightBytes: paper }), Math.min((0.75 * WASM_HEAP_BYTES - 2 * paper) / 1.5, half));
  assert.ok(memoryBudget('wasm', { weightBytes: paper }) < memoryBudget('wasm'));
  for (const engine of ['cpu', 'node', 'node-gpu', 'webgpu'] as const) assert.equal(memoryBudget(engine), Math.min(2 * 2 ** 30, half));
  // ONNX Runtime's 2 GiB of process memory hold ONNX_RUNTIME_FACTOR times the estimated tensors.
  assert.equal(memoryBudget('onnxruntime'), Math.min((2 * 2 ** 30) / ONNX_RUNTIME_FACTOR, half));
  assert.equal(plannedBudget('auto', paper), Math.min(memoryBudget('onnxruntime'), memoryBudget('wasm', { weightBytes: paper })));
  assert.equal(memoryBudget('cpu', { engines: 64 }), Math.min(2 * 2 ** 30, half / 64));
});

test('a backend name given from code that names no engine is refused, naming the choices', async () => {
  assert.throws(() => plannedBudget('wsam', 0), /^RangeError: tile size: backend 'wsam' is not one of auto, node-gpu, webgpu, node, wasm, cpu, onnxruntime, onnxruntime-webgpu, onnxruntime-cuda, onnxruntime-cpu$/);
  await assert.rejects(useBackend('wsam' as never), /^RangeError: useBackend: backend 'wsam' is not one of auto, node-gpu/);
  await assert.rejects(useInferenceBackend('wsam' as never), /^RangeError: useInferenceBackend: backend 'wsam' is not one of auto, node-gpu/);
});

/**
 * What the loader must say of a package, found here without the loader: `not installed`
 * where it does not resolve (or `not installed (UNETFLOW_WITHOUT)` where the variable
 * names it), else the first line of its own import error; undefined when it loads.
 */
async function expectedFailure(name: string): Promise<string | undefined> {
  const why = unavailable(name);
  if (why) return why.endsWith('disabled by UNETFLOW_WITHOUT') ? 'not installed (UNETFLOW_WITHOUT)' : 'not installed';
  return import(name).then(
    () => undefined,
    (error: Error) => error.message.split('\n')[0],
  );
}

const tfjsNode = [
  ['node-gpu', '@tensorflow/tfjs-node-gpu'],
  ['node', '@tensorflow/tfjs-node'],
] as const;

test('auto selection takes the first tfjs backend that loads, naming why each one before it was skipped', async () => {
  // The expectation comes from resolving and importing the optional packages here, whether or not they are installed.
  let expected: { name: string; package: string } = { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm' };
  const skipped: string[] = [];
  for (const [choice, name] of tfjsNode) {
    const failure = await expectedFailure(name);
    if (failure === undefined) {
      expected = { name: 'tensorflow', package: name };
      break;
    }
    skipped.push(`${choice}: ${failure}`);
  }
  const info = await useBackend('auto');
  // WebGPU sits between node-gpu and node. On a machine without a hardware adapter (this
  // test's assumption) it is skipped: not installed, no adapter, or lavapipe, which auto
  // never takes; test/model/engines/webgpu.test.ts holds the reasons themselves.
  const webgpu = info.skipped.findIndex((line) => line.startsWith('webgpu: '));
  assert.equal(webgpu, skipped[0]?.startsWith('node-gpu: ') ? 1 : -1, `skipped: ${info.skipped.join('; ')}`);
  if (lavapipeInstalled() && !unavailable('webgpu')) assert.match(info.skipped[webgpu], /^webgpu: software adapter .*not chosen automatically$/);
  const others = info.skipped.filter((_, i) => i !== webgpu);
  assert.deepEqual({ name: info.name, package: info.package, skipped: others }, { ...expected, skipped });
});

test('a tfjs-node backend asked for by name loads, or is refused with the reason it cannot', async () => {
  for (const [choice, name] of tfjsNode) {
    const failure = await expectedFailure(name);
    if (failure === undefined) {
      assert.deepEqual(await useBackend(choice), { choice, engine: choice, name: 'tensorflow', package: name, skipped: [] });
      continue;
    }
    await assert.rejects(useBackend(choice), (error: Error) => {
      const reason = failure.startsWith('not installed') ? `${name}: ${failure}` : failure;
      assert.equal(error.message.split('\n')[0], `backend '${choice}' is not available: ${reason}`);
      assert.ok(error.cause instanceof Error, "the loader's error is kept as the cause");
      return true;
    });
  }
});
