import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crop, mirrorPad } from '../../src/kernels/mirror.js';
import { createStitcher } from '../../src/kernels/stitch.js';
import { tileGrid, type TileGeometry } from '../../src/kernels/tiling.js';
import { makeImage, type DType } from '../../src/image/image.js';
import { createRng } from '../../src/random.js';
import { pixels, randomImage } from '../helpers/images.js';

/** mirror -> cut every tile -> identity "network" (centre crop, done by the stitcher) -> stitch, tiles shuffled. */
function roundTrip(width: number, height: number, channels: number, dtype: DType, geometry: TileGeometry, seed: number) {
  const image = randomImage(width, height, channels, dtype, seed);
  const grid = tileGrid(height, width, geometry);
  const padded = mirrorPad(image, grid.padding, seed % 2 ? 'reflect' : 'symmetric');
  const order = Array.from({ length: grid.count }, (_, i) => i);
  const rng = createRng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const stitcher = createStitcher(grid, channels, dtype);
  let complete = false;
  for (const index of order) {
    const r = Math.floor(index / grid.cols.length);
    const c = index % grid.cols.length;
    const tile = crop(padded, { y: grid.rows[r], x: grid.cols[c], width: grid.inputSize, height: grid.inputSize });
    complete = stitcher.add(index, tile);
  }
  assert.ok(complete);
  return { image, result: stitcher.result() };
}

const dtypes = fc.constantFrom<DType>('uint8', 'uint16', 'float32');

test('stitch(tile(mirror(x))) equals x exactly for valid geometry, any sizes', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 1, max: 3 }),
      dtypes,
      fc.integer(),
      (width, height, output, margin, channels, dtype, seed) => {
        const { image, result } = roundTrip(width, height, channels, dtype, { kind: 'valid', input: output + 2 * margin, output }, seed);
        assert.deepEqual([result.width, result.height, result.channels, result.dtype], [width, height, channels, dtype]);
        assert.deepEqual(pixels(result), pixels(image));
      },
    ),
    { numRuns: 150 },
  );
});

test('stitch(tile(mirror(x))) equals x exactly for blended same geometry, any sizes', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 2, max: 40 }),
      fc.double({ min: 0, max: 0.9, noNaN: true }),
      fc.constantFrom('uniform', 'gaussian' as const),
      fc.integer({ min: 1, max: 3 }),
      dtypes,
      fc.integer(),
      (width, height, tile, overlapFraction, window, channels, dtype, seed) => {
        const overlap = Math.min(tile - 1, Math.floor(tile * overlapFraction));
        const geometry = { kind: 'same', tile, overlap, window } as const;
        const { image, result } = roundTrip(width, height, channels, dtype, geometry, seed);
        assert.deepEqual(pixels(result), pixels(image));
      },
    ),
    { numRuns: 150 },
  );
});

test('blending averages overlapping tiles with the window weights', () => {
  // Two 4-px tiles over a 6-px row, overlap 2: tile A all 10, tile B all 20.
  const grid = tileGrid(1, 6, { kind: 'same', tile: 4, overlap: 2, window: 'uniform' });
  assert.equal(grid.count, 1 * 2);
  const stitcher = createStitcher(grid, 1, 'float32');
  const tile = (v: number) => makeImage(4, 4, 1, 'float32', new Float32Array(16).fill(v));
  stitcher.add(0, tile(10));
  stitcher.add(1, tile(20));
  assert.deepEqual(pixels(stitcher.result()), [10, 10, 15, 15, 20, 20]);
});

test('a tile of the wrong size, a repeated tile and an early result are refused', () => {
  const grid = tileGrid(10, 10, { kind: 'valid', input: 8, output: 4 });
  const stitcher = createStitcher(grid, 1, 'uint8');
  assert.throws(() => stitcher.add(0, makeImage(5, 5, 1, 'uint8')), /tile 0 is 5x5, expected 4x4 \(or 8x8 before the network\)/);
  stitcher.add(0, makeImage(4, 4, 1, 'uint8'));
  assert.throws(() => stitcher.add(0, makeImage(4, 4, 1, 'uint8')), /tile 0 arrived twice/);
  assert.throws(() => stitcher.result(), /only 1 of 9 tiles arrived/);
});

test('gaussian blending weights two overlapping constant tiles by the window at each one\'s own position (sigma = tile / 8)', () => {
  // Tiles of 8 px over an 8x12 image, overlap 4: tile A (all 10) at x 0-7, tile B (all 30) at x 4-11.
  const grid = tileGrid(8, 12, { kind: 'same', tile: 8, overlap: 4, window: 'gaussian' });
  assert.deepEqual([grid.rows, grid.cols], [[0], [0, 4]]);
  const stitcher = createStitcher(grid, 1, 'float32');
  stitcher.add(0, makeImage(8, 8, 1, 'float32', new Float32Array(64).fill(10)));
  stitcher.add(1, makeImage(8, 8, 1, 'float32', new Float32Array(64).fill(30)));
  const result = stitcher.result();
  // The window by hand: sigma = 8 / 8 = 1 about the tile centre 3.5; along y both tiles weigh the same.
  const g = (i: number) => Math.exp(-((i - 3.5) ** 2) / 2);
  for (let x = 0; x < 12; x++) {
    const a = x < 8 ? g(x) : 0;
    const b = x >= 4 ? g(x - 4) : 0;
    const expected = (10 * a + 30 * b) / (a + b);
    for (let y = 0; y < 8; y++) {
      // float32 output: within its rounding of values up to 30.
      assert.ok(Math.abs(result.data[y * 12 + x] - expected) < 1e-5, `(${y}, ${x}): ${result.data[y * 12 + x]} vs ${expected}`);
    }
  }
  // At x = 5, A's weight is e² times B's: far from the plain mean 20.
  assert.ok(Math.abs(result.data[5] - (10 * Math.E ** 2 + 30) / (Math.E ** 2 + 1)) < 1e-5);
});
