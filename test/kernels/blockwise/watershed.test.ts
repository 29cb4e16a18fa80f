import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededWatershed } from '../../../src/kernels/watershed.js';
import { blockwiseWatershed } from '../../../src/kernels/blockwise/watershed.js';
import { labelArray, planeOf } from '../../../src/kernels/blockwise/region.js';
import { blobs, plane } from './random-planes.js';

test('a blockwise seeded watershed equals the whole-image one exactly, with and without separating touching objects', async () => {
  await fc.assert(
    fc.asyncProperty(
      plane,
      fc.record({ at: fc.double({ min: 0.2, max: 0.6, noNaN: true }), above: fc.double({ min: 0, max: 0.35, noNaN: true }), minSeedArea: fc.integer({ min: 1, max: 6 }), separate: fc.boolean() }),
      async ({ width, height, block, seed }, { at, above, minSeedArea, separate }) => {
        const p = blobs(width, height, seed);
        const options = { at, seeds: Math.min(1, at + above), minSeedArea, separate };
        const whole = seededWatershed(p, width, height, options);
        const sink = labelArray(width, height);
        const count = await blockwiseWatershed(planeOf(p, width, height), sink, { ...options, block });
        assert.equal(count, whole.count);
        assert.deepEqual(sink.labels, whole.labels);
      },
    ),
    { numRuns: 150 },
  );
});
