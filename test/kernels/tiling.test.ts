import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendWindow, checkGeometry, tileGrid, tileStarts } from '../../src/kernels/tiling.js';

const paper = { kind: 'valid', input: 572, output: 388 } as const;

test('the paper geometry has a 92 px margin on every side', () => {
  const grid = tileGrid(512, 512, paper);
  assert.deepEqual(grid.padding, { top: 92, bottom: 92, left: 92, right: 92 });
  assert.equal(grid.inputSize, 572);
  assert.equal(grid.outputSize, 388);
});

test('the last row and column of tiles are shifted back inside the image', () => {
  const grid = tileGrid(512, 1000, paper);
  assert.deepEqual(grid.rows, [0, 124]);
  assert.deepEqual(grid.cols, [0, 388, 612]);
  assert.equal(grid.count, 6);
  for (const c of grid.cols) assert.ok(c + 388 <= 1000);
});

test('an image that fits one output tile exactly gets one tile', () => {
  assert.deepEqual(tileGrid(388, 388, paper).rows, [0]);
  assert.deepEqual(tileGrid(389, 388, paper).rows, [0, 1]);
});

test('an image smaller than an output tile is mirrored out to a whole tile', () => {
  const grid = tileGrid(60, 100, paper);
  assert.equal(grid.count, 1);
  assert.deepEqual(grid.padding, { top: 92, left: 92, bottom: 92 + 328, right: 92 + 288 });
});

test('same geometry strides by tile minus overlap and needs no margin', () => {
  const grid = tileGrid(300, 300, { kind: 'same', tile: 128, overlap: 32, window: 'gaussian' });
  assert.deepEqual(grid.rows, [0, 96, 172]);
  assert.deepEqual(grid.padding, { top: 0, bottom: 0, left: 0, right: 0 });
});

test('tile starts always cover the whole axis and stay inside it', () => {
  for (let n = 1; n < 200; n += 7) {
    for (const [size, stride] of [[16, 16], [16, 10], [50, 1], [7, 3]]) {
      const starts = tileStarts(n, size, stride);
      const covered = new Uint8Array(n);
      for (const s of starts) for (let i = s; i < Math.min(n, s + size); i++) covered[i] = 1;
      assert.ok(covered.every((v) => v === 1), `n=${n} size=${size}`);
      if (n >= size) assert.ok(starts.every((s) => s >= 0 && s + size <= n));
      for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] <= stride);
    }
  }
});

test('aligned tiles start on multiples of the alignment, overlap by output mod align, and the last reaches past the image into mirroring', () => {
  const grid = tileGrid(512, 1000, { ...paper, align: 16 });
  assert.deepEqual(grid.rows, [0, 384]); // 388 mod 16 = 4 px overlap
  assert.deepEqual(grid.cols, [0, 384, 768]);
  assert.deepEqual(grid.padding, { top: 92, left: 92, bottom: 92 + 384 + 388 - 512, right: 92 + 768 + 388 - 1000 });
  for (let n = 1; n < 2000; n += 37) {
    const { rows, padding } = tileGrid(n, n, { ...paper, align: 16 });
    assert.ok(rows.every((r) => r % 16 === 0), `n=${n}`);
    assert.ok(rows[rows.length - 1] + 388 >= n && rows[rows.length - 1] < n, `n=${n}: the tiles cover the image, none wholly outside it`);
    assert.equal(padding.bottom, 92 + rows[rows.length - 1] + 388 - n);
  }
});

test('impossible geometries are refused with the reason', () => {
  assert.throws(() => checkGeometry({ kind: 'valid', input: 188, output: 4, align: 16 }), /smaller than the alignment 16/);
  assert.throws(() => checkGeometry({ kind: 'valid', input: 572, output: 389 }), /must be even/);
  assert.throws(() => checkGeometry({ kind: 'valid', input: 100, output: 200 }), /larger than input/);
  assert.throws(() => checkGeometry({ kind: 'same', tile: 64, overlap: 64, window: 'uniform' }), /overlap 64 must be smaller than tile 64/);
});

test('the gaussian window peaks at the tile centre and never reaches zero', () => {
  const w = blendWindow(64, 'gaussian');
  assert.ok(Math.abs(w[31] - w[32]) < 1e-12);
  assert.ok(w[0] > 0 && w[0] < 0.001);
  assert.ok(blendWindow(8, 'uniform').every((v) => v === 1));
});

test('the gaussian window is exp(-(i - c)² / 2σ²) about the tile centre c = (tile - 1) / 2, with σ = tile / 8 as MONAI', () => {
  for (const tile of [8, 16, 13]) {
    const sigma = tile / 8;
    const c = (tile - 1) / 2;
    const expected = Array.from({ length: tile }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
    const w = blendWindow(tile, 'gaussian');
    expected.forEach((e, i) => assert.ok(Math.abs(w[i] - e) < 1e-12, `tile ${tile}, weight ${i}: ${w[i]} vs ${e}`));
  }
});
