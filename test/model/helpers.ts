/** A small synthetic segmentation problem for model tests: bright discs on a noisy background. */
import { createRng } from '../../src/random.js';
import type { Batch } from '../../src/model/training/trainer.js';

/** `count` tiles of `input` px with labels at the centred `output` px. */
export function discBatch(count: number, input: number, output: number, seed = 1): Batch {
  const rng = createRng(seed);
  const images = new Float32Array(count * input * input);
  const labels = new Int32Array(count * output * output);
  const weights = new Float32Array(count * output * output);
  const m = (input - output) / 2;
  for (let n = 0; n < count; n++) {
    const discs = Array.from({ length: 4 }, () => ({ y: rng.next() * input, x: rng.next() * input, r: 4 + rng.next() * 6 }));
    for (let y = 0; y < input; y++) {
      for (let x = 0; x < input; x++) {
        const inside = discs.some((d) => (y - d.y) ** 2 + (x - d.x) ** 2 < d.r ** 2);
        images[(n * input + y) * input + x] = (inside ? 0.7 : 0.3) + 0.1 * rng.normal();
        const oy = y - m;
        const ox = x - m;
        if (oy >= 0 && ox >= 0 && oy < output && ox < output) {
          const i = (n * output + oy) * output + ox;
          labels[i] = inside ? 1 : 0;
          weights[i] = inside ? 2 : 1;
        }
      }
    }
  }
  return { count, images, inputSize: input, labels, weights };
}
