import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connectedComponents } from '../../src/kernels/components.js';

const grid = (rows: string[]) => ({
  width: rows[0].length,
  height: rows.length,
  mask: Uint8Array.from(rows.join(''), (ch) => (ch === '#' ? 1 : 0)),
});

test('diagonal neighbours are separate under 4-connectivity and joined under 8', () => {
  const { width, height, mask } = grid(['#..#', '.#..', '...#']);
  const four = connectedComponents(mask, width, height, 4);
  assert.equal(four.count, 4);
  assert.deepEqual(Array.from(four.labels), [1, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4]);
  const eight = connectedComponents(mask, width, height, 8);
  assert.equal(eight.count, 3);
  assert.deepEqual(Array.from(eight.labels), [1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 3]);
});

test('components are numbered in raster order of their first pixel and a U shape is one component', () => {
  const { width, height, mask } = grid(['#.#', '#.#', '###']);
  const { labels, count } = connectedComponents(mask, width, height);
  assert.equal(count, 1);
  assert.ok(Array.from(labels).every((l, i) => l === (mask[i] ? 1 : 0)));
});

test('pixels share a component exactly when a path of neighbours joins them (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 9 }),
      fc.constantFrom(4 as const, 8 as const),
      fc.infiniteStream(fc.boolean()),
      (width, height, connectivity, bits) => {
        const it = bits[Symbol.iterator]();
        const mask = Uint8Array.from({ length: width * height }, () => (it.next().value ? 1 : 0));
        const { labels } = connectedComponents(mask, width, height, connectivity);
        // Reference: repeated relaxation to the minimum index reachable.
        const root = Int32Array.from(mask, (m, i) => (m ? i : -1));
        for (let changed = true; changed; ) {
          changed = false;
          for (let p = 0; p < root.length; p++) {
            if (root[p] < 0) continue;
            const [y, x] = [Math.floor(p / width), p % width];
            for (let dy = -1; dy <= 1; dy++) {
              for (let dx = -1; dx <= 1; dx++) {
                if (connectivity === 4 && dx !== 0 && dy !== 0) continue;
                const [ny, nx] = [y + dy, x + dx];
                if (ny < 0 || nx < 0 || ny >= height || nx >= width) continue;
                const q = ny * width + nx;
                if (root[q] >= 0 && root[q] < root[p]) {
                  root[p] = root[q];
                  changed = true;
                }
              }
            }
          }
        }
        for (let p = 0; p < root.length; p++) {
          for (let q = 0; q < root.length; q++) {
            if (root[p] < 0 || root[q] < 0) continue;
            assert.equal(labels[p] === labels[q], root[p] === root[q]);
          }
          assert.equal(labels[p] === 0, root[p] < 0);
        }
      },
    ),
    { numRuns: 100 },
  );
});
