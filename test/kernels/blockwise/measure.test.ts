import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeImage } from '../../../src/image/image.js';
import { connectedComponents, instanceImage } from '../../../src/kernels/components.js';
import { measureObjects } from '../../../src/kernels/measure.js';
import { blockwiseMeasure } from '../../../src/kernels/blockwise/measure.js';
import { planeOf } from '../../../src/kernels/blockwise/region.js';
import { blobs, plane } from './random-planes.js';

test('blockwise measurements equal measureObjects: exactly for integer intensities, within rounding for floats', async () => {
  await fc.assert(
    fc.asyncProperty(plane, fc.boolean(), async ({ width, height, block, seed }, float) => {
      const p = blobs(width, height, seed);
      const { labels, count } = connectedComponents(Uint8Array.from(p, (v) => (v >= 0.4 ? 1 : 0)), width, height);
      const instances = instanceImage(labels, count, width, height);
      const image = float ? makeImage(width, height, 1, 'float32', Float32Array.from(p)) : makeImage(width, height, 1, 'uint16', Uint16Array.from(p, (v) => Math.round(v * 60000)));
      const whole = measureObjects(instances, image);
      const blockwise = await blockwiseMeasure(planeOf(instances.data, width, height), planeOf(image.data, width, height), block);
      assert.equal(blockwise.length, whole.length);
      for (const [k, m] of blockwise.entries()) {
        const { meanIntensity, ...rest } = m;
        const { meanIntensity: wholeMean, ...wholeRest } = whole[k];
        assert.deepEqual(rest, wholeRest);
        if (float) assert.ok(Math.abs(meanIntensity - wholeMean) <= 1e-12 * Math.max(1, Math.abs(wholeMean)), `${meanIntensity} vs ${wholeMean}`);
        else assert.equal(meanIntensity, wholeMean);
      }
    }),
    { numRuns: 100 },
  );
});
