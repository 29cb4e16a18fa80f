import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../../src/model/engines/choice.js';

/** Gradients of sum(conv2d(x, w) * r) with respect to x and w, on the current backend. */
function convGradients(x: Float32Array, w: Float32Array, r: Float32Array, xs: number[], ws: number[], stride: number, pad: 'valid' | 'same') {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]);
    const wt = tf.tensor4d(w, ws as [number, number, number, number]);
    const f = (a: tf.Tensor, b: tf.Tensor) => {
      const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
      return tf.sum(tf.mul(y, tf.tensor(r.subarray(0, y.size), y.shape)));
    };
    const [dx, dw] = tf.grads(f)([xt, wt]);
    return [dx.dataSync().slice(), dw.dataSync().slice()] as const;
  });
}

function random(n: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', seed).dataSync().slice() as Float32Array);
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * scale + 1e-6, `${what}[${i}]: wasm ${a[i]} vs cpu ${b[i]}`);
  }
}

const cases = [
  { xs: [2, 9, 8, 3], ws: [3, 3, 3, 4], stride: 1, pad: 'valid' as const },
  { xs: [1, 7, 7, 2], ws: [3, 3, 2, 5], stride: 1, pad: 'same' as const },
  { xs: [1, 6, 6, 4], ws: [1, 1, 4, 2], stride: 1, pad: 'valid' as const },
  { xs: [1, 9, 9, 2], ws: [3, 3, 2, 3], stride: 2, pad: 'same' as const },
  // Batches whose flattened rows run across image boundaries, non-square filters and images.
  { xs: [3, 7, 10, 1], ws: [2, 3, 1, 4], stride: 1, pad: 'valid' as const },
  { xs: [2, 6, 5, 3], ws: [5, 3, 3, 2], stride: 1, pad: 'same' as const },
];

test('the wasm convolution gradients match the cpu backend for valid, same, 1x1, strided, batched and non-square convolutions', async () => {
  for (const c of cases) {
    const x = random(c.xs.reduce((a, b) => a * b), 1);
    const w = random(c.ws.reduce((a, b) => a * b), 2);
    const r = random(c.xs.reduce((a, b) => a * b) * 4, 3);
    await useBackend('cpu');
    const [dxCpu, dwCpu] = convGradients(x, w, r, c.xs, c.ws, c.stride, c.pad);
    const info = await useBackend('wasm');
    assert.equal(info.name, 'wasm');
    const [dxWasm, dwWasm] = convGradients(x, w, r, c.xs, c.ws, c.stride, c.pad);
    const label = `${c.pad} stride ${c.stride} ${c.ws.join('x')}`;
    assertClose(dwWasm as Float32Array, dwCpu as Float32Array, `dW ${label}`);
    assertClose(dxWasm as Float32Array, dxCpu as Float32Array, `dx ${label}`);
  }
});

test('the wasm kernels leave no tensors behind', async () => {
  await useBackend('wasm');
  const x = random(2 * 9 * 8 * 3, 1);
  const w = random(3 * 3 * 3 * 4, 2);
  const r = random(2 * 9 * 8 * 3 * 4, 3);
  convGradients(x, w, r, cases[0].xs, cases[0].ws, 1, 'valid');
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) convGradients(x, w, r, cases[0].xs, cases[0].ws, 1, 'valid');
  assert.equal(tf.memory().numTensors, before);
});

test('wasm matrix products with transposed operands match the cpu backend', async () => {
  const a = random(2 * 5 * 7, 4);
  const b = random(2 * 7 * 3, 5);
  const products = () =>
    tf.tidy(() =>
      [
        tf.matMul(tf.tensor3d(a, [2, 7, 5]), tf.tensor3d(b, [2, 7, 3]), true, false),
        tf.matMul(tf.tensor3d(a, [2, 5, 7]), tf.tensor3d(b, [2, 3, 7]), false, true),
        tf.matMul(tf.tensor2d(a.subarray(0, 35), [7, 5]), tf.tensor2d(b.subarray(0, 21), [3, 7]), true, true),
      ].map((t) => t.dataSync().slice() as Float32Array),
    );
  await useBackend('cpu');
  const cpu = products();
  await useBackend('wasm');
  const wasm = products();
  cpu.forEach((c, i) => assertClose(wasm[i], c, `product ${i}`));
});
