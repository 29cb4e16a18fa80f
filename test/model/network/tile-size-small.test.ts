import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkLayers } from '../../../src/model/network/flops.js';
import { chooseTiles, planGrid } from '../../../src/model/network/tile-size.js';

const valid: NetworkLayers = { depth: 4, baseFilters: 16, classes: 2, inputChannels: 1, padding: 'valid' };
const same: NetworkLayers = { ...valid, padding: 'same' };
const budgetBytes = 2 ** 31;

test('an image smaller than the smallest useful tile gets one tile of the first size that is one', () => {
  for (const [height, width] of [[1, 1], [2, 2], [3, 3], [1, 15], [15, 1]]) {
    // Valid: the smallest output of at least one pooling step (16 px), 204 -> 20.
    const v = chooseTiles(height, width, { kind: 'auto', network: valid, budgetBytes });
    assert.deepEqual(v.geometry, { kind: 'valid', input: 204, output: 20, align: 16 }, `${height}x${width}`);
    // Same-padded: the smallest tile larger than its overlap.
    for (const [overlap, tile] of [[0, 16], [16, 32], [48, 64]]) {
      const plan = { kind: 'auto' as const, network: same, budgetBytes, overlap };
      assert.deepEqual(chooseTiles(height, width, plan).geometry, { kind: 'same', tile, overlap, window: 'gaussian' }, `${height}x${width}, overlap ${overlap}`);
      assert.equal(planGrid(height, width, plan).count, 1);
    }
  }
});
