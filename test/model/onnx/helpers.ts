/** Shared by the ONNX tests: a network whose biases show when misplaced, and the largest difference. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UNet, type UNetConfig } from '../../../src/model/network/unet.js';
import { createRng } from '../../../src/random.js';

/** A small network with non-zero biases (He initialisation leaves them zero), so that misplaced biases show. */
export function network(config: Partial<UNetConfig>, seed: number): UNet {
  const net = UNet.create(config, seed);
  const rng = createRng(seed);
  for (const [name, v] of net.weights) {
    if (name.endsWith('/bias')) tf.tidy(() => v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => 0.3 * rng.normal()), v.shape)));
  }
  return net;
}

export function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
