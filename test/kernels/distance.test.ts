import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nearestTwo, squaredDistanceTransform } from '../../src/kernels/distance.js';

/** Random instance maps: ids 1..k scattered as small blobs and single pixels. */
const instanceMaps = fc
  .record({ width: fc.integer({ min: 1, max: 14 }), height: fc.integer({ min: 1, max: 14 }), k: fc.integer({ min: 0, max: 5 }), density: fc.double({ min: 0, max: 0.6, noNaN: true }) })
  .chain(({ width, height, k, density }) =>
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: width * height, maxLength: width * height }).map((u) => ({
      width,
      height,
      ids: Int32Array.from(u, (v) => (v < density && k > 0 ? 1 + Math.floor((v / density) * k) : 0)),
    })),
  );

/** Every pixel against every instance pixel: the two smallest per-instance distances. */
function bruteForce(ids: Int32Array, width: number, height: number) {
  const d1 = new Float64Array(ids.length);
  const d2 = new Float64Array(ids.length);
  for (let p = 0; p < ids.length; p++) {
    const best = new Map<number, number>();
    for (let q = 0; q < ids.length; q++) {
      if (ids[q] === 0) continue;
      const dy = Math.floor(p / width) - Math.floor(q / width);
      const dx = (p % width) - (q % width);
      const d = dy * dy + dx * dx;
      if (!(best.get(ids[q])! <= d)) best.set(ids[q], d);
    }
    const sorted = [...best.values()].sort((a, b) => a - b);
    d1[p] = sorted.length > 0 ? Math.sqrt(sorted[0]) : Infinity;
    d2[p] = sorted.length > 1 ? Math.sqrt(sorted[1]) : Infinity;
  }
  return { d1, d2 };
}

test('the distance transform equals brute force on random masks', () => {
  fc.assert(
    fc.property(instanceMaps, ({ width, height, ids }) => {
      const edt = squaredDistanceTransform(ids, width, height);
      const { d1 } = bruteForce(ids.map((v) => (v ? 1 : 0)), width, height);
      for (let i = 0; i < ids.length; i++) assert.equal(Math.sqrt(edt[i]), d1[i]);
    }),
    { numRuns: 150 },
  );
});

test('the distance transform is Euclidean, not chamfer: a knight move away is sqrt(5)', () => {
  const sites = new Uint8Array(25);
  sites[12] = 1; // centre of 5x5
  const d = squaredDistanceTransform(sites, 5, 5);
  assert.equal(d[0], 8);
  assert.equal(d[1], 5);
  assert.equal(d[2], 4);
  assert.deepEqual(Array.from(squaredDistanceTransform(new Uint8Array(4), 2, 2)), [Infinity, Infinity, Infinity, Infinity]);
});

test('nearest and second-nearest instance distances equal brute force exactly on random instance maps', () => {
  fc.assert(
    fc.property(instanceMaps, ({ width, height, ids }) => {
      const fast = nearestTwo(ids, width, height);
      const slow = bruteForce(ids, width, height);
      assert.deepEqual(Array.from(fast.d1), Array.from(slow.d1));
      assert.deepEqual(Array.from(fast.d2), Array.from(slow.d2));
    }),
    { numRuns: 300 },
  );
});

test('long rows far from the instances (the envelope path) agree with brute force', () => {
  // Two small instances in a wide, mostly empty image: runs of equal nearest instance are long.
  const width = 60;
  const height = 9;
  const ids = new Int32Array(width * height);
  ids[2 * width + 5] = 3;
  ids[2 * width + 6] = 3;
  ids[7 * width + 50] = 8;
  ids[0 * width + 30] = 9;
  const fast = nearestTwo(ids, width, height);
  const slow = bruteForce(ids, width, height);
  assert.deepEqual(Array.from(fast.d1), Array.from(slow.d1));
  assert.deepEqual(Array.from(fast.d2), Array.from(slow.d2));
});

test('only the wanted pixels are computed; the rest are NaN', () => {
  const ids = Int32Array.from([1, 0, 0, 2]);
  const { d1, d2 } = nearestTwo(ids, 4, 1, Uint8Array.from([0, 1, 1, 0]));
  assert.ok(Number.isNaN(d1[0]) && Number.isNaN(d2[3]));
  assert.deepEqual([d1[1], d2[1], d1[2], d2[2]], [1, 2, 1, 2]);
});

test('with one instance d2 is Infinity, with none both are', () => {
  assert.deepEqual(Array.from(nearestTwo(Int32Array.from([0, 4, 4]), 3, 1).d2), [Infinity, Infinity, Infinity]);
  const none = nearestTwo(new Int32Array(3), 3, 1);
  assert.deepEqual([...none.d1, ...none.d2], Array(6).fill(Infinity));
});
