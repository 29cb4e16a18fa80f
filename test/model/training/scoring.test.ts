import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeImage } from '../../../src/image/image.js';
import { predictImage, score } from '../../../src/model/training/scoring.js';

test('scores count wrong pixels, foreground IoU and the mean negative log-probability', () => {
  // Pixels: truth 0 0 1 1; predicted 0 1 1 0 (probabilities of class 1: 0.2 0.6 0.9 0.4).
  const p = Float32Array.from([0.8, 0.2, 0.4, 0.6, 0.1, 0.9, 0.6, 0.4]);
  const s = score(p, Int32Array.from([0, 0, 1, 1]), 2);
  assert.equal(s.pixelError, 0.5);
  assert.equal(s.iou, 1 / 3); // intersection {2}, union {1, 2, 3}
  assert.ok(Math.abs(s.loss - -(Math.log(0.8) + Math.log(0.4) + Math.log(0.9) + Math.log(0.4)) / 4) < 1e-6);
});

test('tiled prediction puts every output tile at its place, the last ones shifted inside', async () => {
  // A fake "network" with a 2 px margin whose class-1 probability is the input's centre value.
  const image = makeImage(7, 5, 1, 'float32', Float32Array.from({ length: 35 }, (_, i) => i / 100));
  const predict = async (x: Float32Array, count: number, size: number) => {
    const o = size - 4;
    const out = new Float32Array(count * o * o * 2);
    for (let n = 0; n < count; n++) {
      for (let y = 0; y < o; y++) {
        for (let c = 0; c < o; c++) {
          const v = x[(n * size + y + 2) * size + c + 2];
          out.set([1 - v, v], ((n * o + y) * o + c) * 2);
        }
      }
    }
    return out;
  };
  const p = await predictImage(predict, image, { input: 7, output: 3 }, 2, 2);
  for (let i = 0; i < 35; i++) assert.ok(Math.abs(p[i * 2 + 1] - i / 100) < 1e-6, `pixel ${i}`);
});
