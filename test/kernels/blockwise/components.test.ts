/** Blockwise components equal whole-image ones exactly, on random sizes, block sizes and images. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connectedComponents } from '../../../src/kernels/components.js';
import { blockwiseComponents } from '../../../src/kernels/blockwise/components.js';
import { labelArray, planeOf } from '../../../src/kernels/blockwise/region.js';
import { blobs, plane } from './random-planes.js';

test('blockwise connected components equal the whole-image ones, numbering included, with 4 and 8 neighbours', async () => {
  await fc.assert(
    fc.asyncProperty(plane, fc.constantFrom(4 as const, 8 as const), fc.double({ min: 0.1, max: 0.9, noNaN: true }), async ({ width, height, block, seed }, connectivity, at) => {
      const mask = Uint8Array.from(blobs(width, height, seed), (p) => (p >= at ? 1 : 0));
      const whole = connectedComponents(mask, width, height, connectivity);
      const sink = labelArray(width, height);
      const found = await blockwiseComponents(planeOf(mask, width, height), { block, connectivity, sink });
      assert.equal(found.count, whole.count);
      assert.deepEqual(sink.labels, whole.labels);
      for (const [k, { first, box }] of found.objects.entries()) {
        assert.equal(whole.labels[first], k + 1);
        assert.ok(whole.labels.slice(0, first).every((id) => id !== k + 1), 'the first pixel is the first');
        for (let i = 0; i < whole.labels.length; i++) {
          if (whole.labels[i] !== k + 1) continue;
          const [y, x] = [Math.floor(i / width), i % width];
          assert.ok(x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height, 'inside its box');
        }
      }
    }),
    { numRuns: 150 },
  );
});

test('a block size that is not a positive integer is refused', async () => {
  await assert.rejects(blockwiseComponents(planeOf([1], 1, 1), { block: 0 }), { message: 'block size must be a positive integer, got 0' });
});
