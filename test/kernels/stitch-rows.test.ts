import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStitcher } from '../../src/kernels/stitch.js';
import { tileGrid } from '../../src/kernels/tiling.js';
import { makeImage } from '../../src/image/image.js';

test('blending holds the sums of only the rows still waiting for a tile, so row-by-row tiles keep a few tile rows of float64', () => {
  // 40 x 100 px, tiles of 10 overlapping by 4: stride 6, tile rows start at 0, 6, ..., 84, 90.
  const grid = tileGrid(100, 40, { kind: 'same', tile: 10, overlap: 4, window: 'gaussian' });
  assert.deepEqual(grid.rows, [0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 66, 72, 78, 84, 90]);
  const stitcher = createStitcher(grid, 1, 'float32');
  const tile = makeImage(10, 10, 1, 'float32', new Float32Array(100).fill(0.25));
  let most = 0;
  for (let index = 0; index < grid.count; index++) {
    stitcher.add(index, tile);
    most = Math.max(most, stitcher.rowsHeld);
    // Once a whole tile row is in, the rows it shares with the next tile row are all that is held.
    if ((index + 1) % grid.cols.length === 0 && index + 1 < grid.count) assert.equal(stitcher.rowsHeld, 4);
  }
  assert.equal(most, 10); // one tile row: 10 image rows
  assert.equal(stitcher.rowsHeld, 0);
  assert.ok(Array.from(stitcher.result().data).every((v) => v === 0.25));
});

test('a valid geometry copies tiles straight into the result and holds no sums', () => {
  const grid = tileGrid(30, 30, { kind: 'valid', input: 20, output: 12 });
  const stitcher = createStitcher(grid, 1, 'uint8');
  stitcher.add(0, makeImage(12, 12, 1, 'uint8'));
  assert.equal(stitcher.rowsHeld, 0);
});
