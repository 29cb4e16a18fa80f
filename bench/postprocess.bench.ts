/**
 * Post-processing of a probability map, 2048x2048 (a smooth random field, cells about
 * 40 px across): the seeded watershed with its line cutting, against a threshold plus
 * connected components (what `threshold` + `instances` do) in the same run.
 */
import { connectedComponents } from '../src/kernels/components.js';
import { seededWatershed, separateTouching } from '../src/kernels/watershed.js';
import { createRng } from '../src/random.js';
import { medianSeconds, type Benchmark } from './harness.js';

const SIZE = 2048;

/** Cell-like probabilities: high inside, falling toward the boundaries of a random Voronoi tiling. */
function probabilityField(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const spacing = 40;
  const cells = Math.ceil(size / spacing);
  const centres = Array.from({ length: cells * cells }, (_, i) => [((i % cells) + rng.next()) * spacing, (Math.floor(i / cells) + rng.next()) * spacing]);
  const p = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const cx = Math.floor(x / spacing);
      const cy = Math.floor(y / spacing);
      let d1 = Infinity;
      let d2 = Infinity;
      for (let gy = Math.max(0, cy - 1); gy <= Math.min(cells - 1, cy + 1); gy++) {
        for (let gx = Math.max(0, cx - 1); gx <= Math.min(cells - 1, cx + 1); gx++) {
          const [ux, uy] = centres[gy * cells + gx];
          const d = Math.hypot(x - ux, y - uy);
          if (d < d1) [d1, d2] = [d, d1];
          else if (d < d2) d2 = d;
        }
      }
      // Distance to the Voronoi edge, squashed to a probability, plus noise.
      p[y * size + x] = Math.min(1, Math.max(0, 1 / (1 + Math.exp(-(d2 - d1 - 4) / 1.5)) + 0.1 * (rng.next() - 0.5)));
    }
  }
  return p;
}

export const benchmarks: Benchmark[] = [
  {
    group: 'postprocess',
    name: 'watershed-2048',
    async run() {
      const p = probabilityField(SIZE, 1);
      const options = { at: 0.5, seeds: 0.9, minSeedArea: 10 };
      const objects = seededWatershed(p, SIZE, SIZE, options).count;
      const ours = await medianSeconds(() => separateTouching(seededWatershed(p, SIZE, SIZE, options).labels, SIZE, SIZE), 5, 1);
      const reference = await medianSeconds(() => connectedComponents(Uint8Array.from(p, (v) => (v >= 0.5 ? 1 : 0)), SIZE, SIZE), 5, 1);
      return [{ name: 'watershed-2048', value: ours, unit: 's', parameters: { size: `${SIZE}x${SIZE}`, ...options, objects }, reference: { name: 'threshold+components', value: reference, ratio: ours / reference } }];
    },
  },
];
