import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendEvent, backendLine } from '../../../src/model/engines/report.js';

const lavapipe = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7', software: true };

test('the backend line names the engine, its package and threads, and the GPU adapter where there is one', () => {
  assert.equal(backendLine({ name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', workers: 2 }), 'wasm (@tensorflow/tfjs-backend-wasm, 2 workers)');
  assert.equal(
    backendLine({ name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', workers: 1, adapter: lavapipe }),
    'webgpu (@tensorflow/tfjs-backend-webgpu, 1 worker, mesa software adapter (llvmpipe: Mesa 25.0.7))',
  );
});

test('the backend event carries what the choice reported, the adapter only where there is one', () => {
  const info = { choice: 'auto', engine: 'wasm', name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', skipped: ['onnxruntime: not installed'] } as const;
  assert.deepEqual(backendEvent('steps[3].unet', info, 2), {
    type: 'backend',
    step: 'steps[3].unet',
    name: 'wasm',
    package: '@tensorflow/tfjs-backend-wasm',
    workers: 2,
    skipped: ['onnxruntime: not installed'],
  });
  assert.deepEqual(backendEvent('train', { ...info, choice: 'webgpu', engine: 'webgpu', name: 'webgpu', skipped: [], adapter: lavapipe }, 1).adapter, lavapipe);
});
