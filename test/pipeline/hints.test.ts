import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferenceHints } from '../../src/pipeline/hints.js';

const backend = (name: string, skipped: string[]) => ({ type: 'backend' as const, step: 'steps[3].unet', name, package: 'p', workers: 2, skipped });

test('inference on wasm because ONNX Runtime is missing gets a hint saying how to install it', () => {
  const [hint] = inferenceHints([backend('wasm', ['node-gpu: not installed', 'onnxruntime: not installed'])]);
  assert.match(hint, /^steps\[3\]\.unet ran on wasm because ONNX Runtime was skipped \(not installed\); ONNX Runtime runs the U-Net several times faster/);
  assert.match(hint, /`npm ci` keeps onnxruntime-node/);
});

test('ONNX Runtime disabled on purpose gets a hint naming the variable', () => {
  const [hint] = inferenceHints([backend('wasm', ['onnxruntime: not installed (UNETFLOW_WITHOUT)'])]);
  assert.match(hint, /unset UNETFLOW_WITHOUT to use it$/);
});

test('no hint when inference ran on ONNX Runtime, for training steps, or twice for the same step', () => {
  assert.deepEqual(inferenceHints([backend('onnxruntime', ['node-gpu: not installed'])]), []);
  assert.deepEqual(inferenceHints([backend('wasm', ['onnxruntime: inference only'])]), []);
  assert.equal(inferenceHints([backend('wasm', ['onnxruntime: not installed']), backend('wasm', ['onnxruntime: not installed'])]).length, 1);
});
