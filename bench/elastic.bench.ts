/**
 * Elastic deformation of a 512x512 ISBI slice with its label and weight map, as the
 * `elastic` operator does it (one field, three warps), and its parts.
 */
import { readImage } from '../src/io/read.js';
import { displacementField, sampleDisplacement, warp } from '../src/kernels/elastic.js';
import { weightMap } from '../src/kernels/weight-map.js';
import { createRng } from '../src/random.js';
import { medianSeconds, type Benchmark } from './harness.js';

export const benchmarks: Benchmark[] = [
  {
    group: 'elastic',
    name: 'elastic-512-image-label-weights',
    async run() {
      const image = await readImage('../shared/data/isbi2012/train/image/00.png');
      const label = await readImage('../shared/data/isbi2012/train/label/00.png');
      const weights = weightMap(label).weights;
      const { width, height } = image;
      const grid = sampleDisplacement(createRng(1), 3, 10);
      const field = displacementField(grid, width, height);
      const parameters = { size: `${width}x${height}`, controlPoints: 3, sigma: 10, image: image.dtype };
      const total = await medianSeconds(() => {
        const f = displacementField(grid, width, height);
        return [warp(image, f, 'cubic'), warp(label, f, 'nearest'), warp(weights, f, 'linear')];
      }, 9, 2);
      const part = (fn: () => unknown) => medianSeconds(fn, 9, 2);
      return [
        { name: 'elastic-512-image-label-weights', value: total, unit: 's', parameters: { ...parameters, interpolation: 'cubic + nearest + linear' } },
        { name: 'elastic-512-field', value: await part(() => displacementField(grid, width, height)), unit: 's', parameters },
        { name: 'elastic-512-warp-cubic-u8', value: await part(() => warp(image, field, 'cubic')), unit: 's', parameters },
        { name: 'elastic-512-warp-linear-u8', value: await part(() => warp(image, field, 'linear')), unit: 's', parameters },
        { name: 'elastic-512-warp-nearest-label', value: await part(() => warp(label, field, 'nearest')), unit: 's', parameters },
        { name: 'elastic-512-warp-linear-weights', value: await part(() => warp(weights, field, 'linear')), unit: 's', parameters },
      ];
    },
  },
];
