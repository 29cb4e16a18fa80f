/** Random planes for the blockwise kernels' property tests. */
import fc from 'fast-check';
import { createRng } from '../../../src/random.js';

/** A smooth random probability map: blobs, so that there are objects, touching ones and cores. */
export function blobs(width: number, height: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const random = () => rng.next();
  const centres = Array.from({ length: 1 + Math.floor(random() * 8) }, () => [random() * width, random() * height, 1.5 + random() * 6, 0.5 + random() * 0.5]);
  const p = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (const [cy, cx, r, peak] of centres) v = Math.max(v, peak * Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r)));
      p[y * width + x] = Math.min(1, v + 0.15 * random());
    }
  }
  return p;
}

export const plane = fc.record({ width: fc.integer({ min: 1, max: 48 }), height: fc.integer({ min: 1, max: 48 }), block: fc.integer({ min: 1, max: 20 }), seed: fc.integer() });

