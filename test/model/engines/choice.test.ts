import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { memoryBudget, plannedBudget } from '../../../src/model/engines/choice.js';
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

test('a backend name given from code that names no engine is refused, naming the choices', () => {
  assert.throws(() => plannedBudget('wsam', 0), /^RangeError: tile size: backend 'wsam' is not one of auto, node-gpu, webgpu, node, wasm, cpu, onnxruntime$/);
});
