import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cubicWeights, evaluate1d, prefilter1d, prefilter2d } from '../../src/kernels/bspline.js';

/** The spline of 2-D coefficients at integer pixel (y, x), mirrored by `mode` — the samples it must reproduce. */
function atPixel(coef: Float64Array, width: number, height: number, y: number, x: number, mode: 'reflect' | 'symmetric'): number {
  const rowCoef = (yy: number) => Array.from({ length: width }, (_, i) => coef[yy * width + i]);
  const idx = (i: number, n: number) => {
    const period = mode === 'reflect' ? Math.max(1, 2 * n - 2) : 2 * n;
    const j = ((i % period) + period) % period;
    return j < n ? j : mode === 'reflect' ? period - j : period - 1 - j;
  };
  let v = 0;
  for (const [dy, wy] of [[-1, 1 / 6], [0, 4 / 6], [1, 1 / 6]]) {
    const r = rowCoef(idx(y + dy, height));
    for (const [dx, wx] of [[-1, 1 / 6], [0, 4 / 6], [1, 1 / 6]]) v += wy * wx * r[idx(x + dx, width)];
  }
  return v;
}

test('the prefilter makes the spline pass through every sample, for both boundary modes and any size', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 9 }),
      fc.constantFrom('reflect' as const, 'symmetric' as const),
      fc.integer(),
      (width, height, mode, seed) => {
        const values = Array.from({ length: width * height }, (_, i) => Math.sin(seed + i * 1.7) * 100);
        const coef = prefilter2d(values, width, height, 1, mode);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            assert.ok(Math.abs(atPixel(coef, width, height, y, x, mode) - values[y * width + x]) < 1e-9);
          }
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('interleaved channels are filtered independently', () => {
  const a = [3, 1, 4, 1, 5, 9];
  const b = [2, 7, 1, 8, 2, 8];
  const both = prefilter2d(a.flatMap((v, i) => [v, b[i]]), 3, 2, 2, 'symmetric');
  const ca = prefilter2d(a, 3, 2, 1, 'symmetric');
  const cb = prefilter2d(b, 3, 2, 1, 'symmetric');
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(both[2 * i] - ca[i]) < 1e-12);
    assert.ok(Math.abs(both[2 * i + 1] - cb[i]) < 1e-12);
  }
});

test('cubic weights sum to one and match the B-spline at t = 0 and t = 0.5', () => {
  const w = new Float64Array(4);
  cubicWeights(0, w);
  assert.deepEqual(Array.from(w, (v) => +v.toFixed(12)), [+(1 / 6).toFixed(12), +(4 / 6).toFixed(12), +(1 / 6).toFixed(12), 0]);
  cubicWeights(0.5, w);
  assert.deepEqual(Array.from(w, (v) => +v.toFixed(12)), [+(1 / 48).toFixed(12), +(23 / 48).toFixed(12), +(23 / 48).toFixed(12), +(1 / 48).toFixed(12)]);
  for (const t of [0.1, 0.33, 0.9]) {
    cubicWeights(t, w);
    assert.ok(Math.abs(w[0] + w[1] + w[2] + w[3] - 1) < 1e-15);
  }
});

test('a line of samples is reproduced at integer positions and mirrored beyond its ends', () => {
  const values = [5, -2, 7, 0, 3];
  const sym = prefilter1d(values, 'symmetric');
  const inside = evaluate1d(sym, [0, 1, 2, 3, 4], 'symmetric');
  inside.forEach((v, i) => assert.ok(Math.abs(v - values[i]) < 1e-12));
  // Half-sample symmetry about -0.5 and 4.5: f(-1 - x) = f(x), f(9 - x) = f(x).
  const [a, b] = [evaluate1d(sym, [-1.7, 0.7], 'symmetric'), evaluate1d(sym, [5.3, 3.7], 'symmetric')];
  assert.ok(Math.abs(a[0] - a[1]) < 1e-12 && Math.abs(b[0] - b[1]) < 1e-12);
  // Whole-sample symmetry about 0: f(-x) = f(x).
  const ref = prefilter1d(values, 'reflect');
  const c = evaluate1d(ref, [-1.3, 1.3], 'reflect');
  assert.ok(Math.abs(c[0] - c[1]) < 1e-12);
});
