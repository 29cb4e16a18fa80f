import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TileBatcher, type BatchTile } from '../../../src/model/inference/batcher.js';
import type { Predictor } from '../../../src/model/engines/engine.js';

/**
 * A predictor whose output for a tile is the sum of its input (one value per tile), that
 * records each pass and fails any pass holding a tile whose input contains NaN.
 */
function summingPredictor(passes: { count: number; size: number }[], delayMs = 0): Predictor {
  return {
    description: 'sums',
    async predict(images, count, size) {
      passes.push({ count, size });
      await new Promise((r) => setTimeout(r, delayMs));
      if (images.some(Number.isNaN)) throw new Error('NaN in the batch');
      const per = images.length / count;
      return Float32Array.from({ length: count }, (_, i) => images.subarray(i * per, (i + 1) * per).reduce((a, b) => a + b, 0));
    },
    close: async () => {},
  };
}

const tile = (image: string, size: number, value: number): BatchTile => ({ image, size, input: () => new Float32Array(size * size).fill(value) });

test('tiles of several images submitted together share one pass, each gets its own result', async () => {
  const passes: { count: number; size: number }[] = [];
  const batcher = new TileBatcher(summingPredictor(passes), 8, 'none', () => 1);
  const results = await Promise.all([tile('a', 2, 1), tile('b', 2, 2), tile('a', 2, 3), tile('c', 2, 4)].map((t) => batcher.submit(t)));
  assert.deepEqual(results.map((r) => [...r]), [[4], [8], [12], [16]]);
  assert.deepEqual(passes, [{ count: 4, size: 2 }]);
});

test('a pass holds at most batchSize tiles, of one size, in the order they came', async () => {
  const passes: { count: number; size: number }[] = [];
  const batcher = new TileBatcher(summingPredictor(passes), 2, 'none', () => 1);
  await Promise.all([tile('a', 2, 1), tile('b', 3, 1), tile('a', 2, 1), tile('c', 2, 1), tile('d', 3, 1)].map((t) => batcher.submit(t)));
  assert.deepEqual(passes, [
    { count: 2, size: 2 },
    { count: 2, size: 3 },
    { count: 1, size: 2 },
  ]);
});

test('tiles submitted while a pass runs go together into the next one', async () => {
  const passes: { count: number; size: number }[] = [];
  const batcher = new TileBatcher(summingPredictor(passes, 30), 4, 'none', () => 1);
  const first = batcher.submit(tile('a', 2, 1));
  await new Promise((r) => setTimeout(r, 10)); // the first pass is running
  const later = [batcher.submit(tile('b', 2, 1)), batcher.submit(tile('c', 2, 1))];
  await Promise.all([first, ...later]);
  assert.deepEqual(passes.map((p) => p.count), [1, 2]);
});

test('a failing image does not fail the others in its pass: they are computed again without it', async () => {
  const passes: { count: number; size: number }[] = [];
  const batcher = new TileBatcher(summingPredictor(passes), 8, 'none', () => 1);
  const submitted = [tile('a', 2, 1), tile('bad', 2, 1), tile('bad', 2, NaN), tile('c', 2, 5)].map((t) => batcher.submit(t));
  const settled = await Promise.allSettled(submitted);
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  assert.deepEqual([...(settled[0] as PromiseFulfilledResult<Float32Array>).value], [4]);
  assert.deepEqual([...(settled[3] as PromiseFulfilledResult<Float32Array>).value], [20]);
  assert.match(String((settled[1] as PromiseRejectedResult).reason), /NaN in the batch/);
  // The shared pass, then one per image.
  assert.deepEqual(passes.map((p) => p.count), [4, 1, 2, 1]);
});

test('a pass over one image that fails rejects its tiles once, without retrying', async () => {
  const passes: { count: number; size: number }[] = [];
  const batcher = new TileBatcher(summingPredictor(passes), 8, 'none', () => 1);
  const settled = await Promise.allSettled([tile('bad', 2, NaN), tile('bad', 2, 1)].map((t) => batcher.submit(t)));
  assert.deepEqual(settled.map((s) => s.status), ['rejected', 'rejected']);
  assert.equal(passes.length, 1);
});

test('a bad batch size is refused when the batcher is made', () => {
  assert.throws(() => new TileBatcher(summingPredictor([]), 0, 'none', () => 1), /batchSize must be a positive integer, got 0/);
});
