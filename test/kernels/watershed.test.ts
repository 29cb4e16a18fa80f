import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connectedComponents } from '../../src/kernels/components.js';
import { renumberInRasterOrder, seededWatershed, separateTouching } from '../../src/kernels/watershed.js';

/** A probability map from rows of digits: '9' = 0.95, '6' = 0.6, '0' = 0.05, ... */
const map = (rows: string[]) => ({
  width: rows[0].length,
  height: rows.length,
  p: Float32Array.from(rows.join(''), (ch) => Number(ch) / 10 + 0.05),
});

// Two confident cells joined through a faint gap in the membrane between them ('6').
const twoCells = map([
  '9990000999',
  '9990000999',
  '9996666999',
  '9990000999',
  '9990000999',
]);

test('a faint gap that merges two cells under a threshold leaves them apart under the watershed', () => {
  const { width, height, p } = twoCells;
  const thresholded = connectedComponents(Uint8Array.from(p, (v) => (v >= 0.5 ? 1 : 0)), width, height);
  assert.equal(thresholded.count, 1);
  const { labels, count } = seededWatershed(p, width, height, { at: 0.5, seeds: 0.9 });
  assert.equal(count, 2);
  // Every pixel a threshold at 0.5 keeps is in an object, and nothing else is.
  assert.ok(Array.from(labels).every((id, i) => (id !== 0) === (p[i] >= 0.5)));
  // The bridge is shared between the cells, the left half flooded from the left core.
  const bridge = Array.from(labels.slice(2 * width + 3, 2 * width + 7));
  assert.deepEqual(bridge, [1, 1, 2, 2]);
});

test('foreground without a confident core is kept as an object of its own', () => {
  const { width, height, p } = map(['99000', '99000', '00077', '00077']);
  const { labels, count } = seededWatershed(p, width, height, { at: 0.5, seeds: 0.9 });
  assert.equal(count, 2);
  assert.deepEqual(Array.from(labels), [1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 2, 2]);
});

test('cores smaller than minSeedArea start no object, so a speck does not split a cell', () => {
  const { width, height, p } = map(['9996669', '9996669', '9996666']);
  assert.equal(seededWatershed(p, width, height, { at: 0.5, seeds: 0.9 }).count, 2);
  const { labels, count } = seededWatershed(p, width, height, { at: 0.5, seeds: 0.9, minSeedArea: 3 });
  assert.equal(count, 1);
  assert.ok(labels.every((id) => id === 1));
});

test('a seed threshold below the foreground threshold and a wrong size are refused', () => {
  const { width, height, p } = twoCells;
  assert.throws(() => seededWatershed(p, width, height, { at: 0.5, seeds: 0.4 }), /seed threshold \(0.4\) must be at least the foreground threshold \(0.5\)/);
  assert.throws(() => seededWatershed(p, width + 1, height, { at: 0.5, seeds: 0.9 }), /50 values for 11x5 pixels/);
});

test('separateTouching clears one pixel of each touching pair, so the objects become separate components', () => {
  const labels = Int32Array.from([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3]);
  const out = separateTouching(labels, 4, 3);
  assert.deepEqual(Array.from(out), [1, 0, 2, 2, 0, 0, 0, 0, 3, 3, 3, 3]);
  assert.deepEqual(Array.from(labels), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3], 'input untouched');
});

test('on any map, objects cover the thresholded foreground and, once separated, no component holds two objects (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 12 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 4 }),
      fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
      (width, height, a, b, minSeedArea, values) => {
        const [at, seeds] = a <= b ? [a, b] : [b, a];
        const it = values[Symbol.iterator]();
        const p = Float32Array.from({ length: width * height }, () => it.next().value);
        const { labels, count } = seededWatershed(p, width, height, { at, seeds, minSeedArea });
        assert.ok(labels.every((id, i) => (id !== 0) === (p[i] >= at) && id <= count));
        // Each object is 4-connected before separation.
        for (let id = 1; id <= count; id++) {
          assert.equal(connectedComponents(labels.map((l) => (l === id ? 1 : 0)), width, height).count, 1);
        }
        const parted = separateTouching(labels, width, height);
        const components = connectedComponents(parted, width, height);
        const owner = new Map<number, number>();
        parted.forEach((id, i) => {
          if (id === 0) return;
          const c = components.labels[i];
          assert.equal(owner.get(c) ?? id, id);
          owner.set(c, id);
        });
      },
    ),
  );
});

test('one class of interleaved probabilities is segmented in place, as the same class extracted', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 3 }), fc.integer(), (width, height, channels, seed) => {
      const values = Float32Array.from({ length: width * height * channels }, (_, i) => ((Math.imul(i + 1, 2654435761 ^ seed) >>> 0) % 1000) / 1000);
      const channel = (seed >>> 0) % channels;
      const extracted = Float32Array.from({ length: width * height }, (_, i) => values[i * channels + channel]);
      const options = { at: 0.3, seeds: 0.7, minSeedArea: 2 };
      const inPlace = seededWatershed(values, width, height, { ...options, channels, channel });
      assert.deepEqual(inPlace, seededWatershed(extracted, width, height, options));
    }),
    { numRuns: 200 },
  );
});

test('separate: true parts touching objects as separateTouching then renumbering does', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 14 }), fc.integer(), (width, height, seed) => {
      const p = Float32Array.from({ length: width * height }, (_, i) => ((Math.imul(i + 7, 2246822519 ^ seed) >>> 0) % 1000) / 1000);
      const options = { at: 0.2, seeds: 0.6 };
      const plain = seededWatershed(p, width, height, options);
      const expected = renumberInRasterOrder(separateTouching(plain.labels, width, height), plain.count);
      assert.deepEqual(seededWatershed(p, width, height, { ...options, separate: true }), expected);
    }),
    { numRuns: 200 },
  );
});
