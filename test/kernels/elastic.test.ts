import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { displacementField, sampleDisplacement, warp, zeroField, type DisplacementField } from '../../src/kernels/elastic.js';
import { makeImage } from '../../src/image/image.js';
import { createRng } from '../../src/random.js';
import { pixels, positionImage, randomImage } from '../helpers/images.js';

// Made by fixtures/golden/make_golden.py with scipy.ndimage 1.17.
const golden = JSON.parse(readFileSync(new URL('../../fixtures/golden/elastic.json', import.meta.url), 'utf8'));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const uniform = (width: number, height: number, dy: number, dx: number): DisplacementField => ({
  width,
  height,
  dy: new Float64Array(width * height).fill(dy),
  dx: new Float64Array(width * height).fill(dx),
});

test('the dense field equals scipy.ndimage.zoom(grid, (H/n, W/n), order=3) to 1e-9 px', () => {
  for (const z of golden.zoom) {
    const field = displacementField({ dy: z.grid, dx: z.grid }, z.width, z.height);
    assert.ok(maxDiff(field.dy, z.field.flat()) < 1e-9, `n=${z.n} ${z.height}x${z.width}`);
  }
});

test('control points sit on pixels r(H-1)/(n-1), c(W-1)/(n-1) and keep their values there', () => {
  const grid = { dy: [[1, -2, 3], [4, 5, -6], [7, 8, 9]], dx: [[0, 0, 0], [0, 0, 0], [0, 0, 0]] };
  const field = displacementField(grid, 21, 11); // control points at x = 0, 10, 20 and y = 0, 5, 10
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(field.dy[r * 5 * 21 + c * 10] - grid.dy[r][c]) < 1e-12);
  }
});

test('the warp equals scipy map_coordinates with mode reflect for orders 3, 1 and 0', () => {
  const w = golden.warp;
  const image = makeImage(w.width, w.height, 1, 'float32', Float32Array.from(w.image.flat()));
  const field = { width: w.width, height: w.height, dy: Float64Array.from(w.dy.flat()), dx: Float64Array.from(w.dx.flat()) };
  // Tolerance: float32 output of values up to 255 (about 1.5e-5 ulp).
  assert.ok(maxDiff(warp(image, field, 'cubic').data, w.cubic.flat()) < 3e-5);
  assert.ok(maxDiff(warp(image, field, 'linear').data, w.linear.flat()) < 3e-5);
  assert.ok(maxDiff(warp(image, field, 'nearest').data, w.nearest.flat()) < 1e-9); // the same pixels (JSON keeps 10 decimals)
});

test('control grid -> field -> cubic warp matches scipy zoom + map_coordinates end to end', () => {
  const c = golden.chain;
  const image = makeImage(c.width, c.height, 1, 'float32', Float32Array.from(c.image.flat()));
  const out = warp(image, displacementField({ dy: c.dy, dx: c.dx }, c.width, c.height), 'cubic');
  assert.ok(maxDiff(out.data, c.cubic.flat()) < 2e-4); // values up to 1000 in float32
});

test('a zero displacement is the identity for every interpolation', () => {
  const u8 = randomImage(13, 9, 2, 'uint8', 3);
  const f32 = randomImage(13, 9, 1, 'float32', 4);
  for (const how of ['cubic', 'linear', 'nearest'] as const) {
    assert.deepEqual(pixels(warp(u8, zeroField(13, 9), how)), pixels(u8));
    assert.ok(maxDiff(warp(f32, zeroField(13, 9), how).data, f32.data) < 1e-4, how);
  }
});

test('an integer displacement shifts the image, mirroring (edge repeated) beyond the border', () => {
  const image = positionImage(6, 4);
  for (const how of ['cubic', 'linear', 'nearest'] as const) {
    const out = warp(image, uniform(6, 4, 1, -2), how);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 6; x++) {
        const sy = y + 1 > 3 ? 3 - (y + 1 - 4) : y + 1; // 4 -> 3 (edge repeated)
        const sx = x - 2 < 0 ? -(x - 2) - 1 : x - 2; // -1 -> 0, -2 -> 1
        assert.ok(Math.abs(out.data[y * 6 + x] - (sy * 1000 + sx)) < 1e-2, `${how} (${y}, ${x})`);
      }
    }
  }
});

test('nearest never produces a label value that was not in the input', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer(), (w, h, seed) => {
      const rng = createRng(seed);
      const values = [0, 7, 255, 13];
      const label = makeImage(w, h, 1, 'uint8', Uint8Array.from({ length: w * h }, () => values[rng.int(4)]));
      const field = displacementField(sampleDisplacement(rng, 3, 20), w, h);
      const present = new Set(label.data);
      for (const v of warp(label, field, 'nearest').data) assert.ok(present.has(v));
    }),
    { numRuns: 50 },
  );
});

test('integer images are rounded and clamped where cubic interpolation overshoots', () => {
  const step = makeImage(8, 1, 1, 'uint8', Uint8Array.from([0, 0, 0, 0, 255, 255, 255, 255]));
  const out = warp(step, uniform(8, 1, 0, 0.5), 'cubic');
  const float = warp(makeImage(8, 1, 1, 'float32', Float32Array.from(step.data)), uniform(8, 1, 0, 0.5), 'cubic');
  assert.ok(Math.min(...float.data) < 0 && Math.max(...float.data) > 255, 'the float result overshoots');
  for (let i = 0; i < 8; i++) assert.equal(out.data[i], Math.min(255, Math.max(0, Math.round(float.data[i]))));
});

test('the draw is seeded: the same seed gives the same grid, and components are N(0, sigma²)', () => {
  assert.deepEqual(sampleDisplacement(createRng(5), 3, 10), sampleDisplacement(createRng(5), 3, 10));
  assert.notDeepEqual(sampleDisplacement(createRng(5), 3, 10), sampleDisplacement(createRng(6), 3, 10));
  const values = sampleDisplacement(createRng(1), 60, 4);
  const all = [...values.dy.flat(), ...values.dx.flat()];
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const sd = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  assert.ok(Math.abs(mean) < 0.3 && Math.abs(sd - 4) < 0.2, `mean ${mean}, sd ${sd}`);
});

test('bad grids and fields are refused with a message', () => {
  assert.throws(() => sampleDisplacement(createRng(1), 1, 10), /n >= 2/);
  assert.throws(() => displacementField({ dy: [[0, 0], [0]], dx: [[0, 0], [0, 0]] }, 4, 4), /dy\[1\] has 1 values/);
  assert.throws(() => displacementField({ dy: [[0, 0], [0, NaN]], dx: [[0, 0], [0, 0]] }, 4, 4), /finite/);
  assert.throws(() => warp(randomImage(4, 4, 1, 'uint8'), zeroField(5, 4)), /5x4 but the image is 4x4/);
});
