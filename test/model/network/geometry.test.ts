import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bands, margin, nearestValid, outputSize, sizeMap, validSizes } from '../../../src/model/network/geometry.js';

test('the paper network maps 572 to 388 with a 92 px margin', () => {
  assert.equal(outputSize(572, { depth: 4, padding: 'valid' }), 388);
  assert.equal(margin({ depth: 4, padding: 'valid' }), 92);
});

test('known sizes for other depths follow the two-convolutions-per-level rule', () => {
  assert.equal(outputSize(44, { depth: 2, padding: 'valid' }), 4);
  assert.equal(outputSize(60, { depth: 2, padding: 'valid' }), 20);
  assert.equal(outputSize(252, { depth: 4, padding: 'valid' }), 68);
  assert.equal(outputSize(10, { depth: 0, padding: 'valid' }), 6);
  assert.equal(outputSize(18, { depth: 1, padding: 'valid' }), 2);
});

test('impossible sizes give undefined', () => {
  assert.equal(outputSize(573, { depth: 4, padding: 'valid' }), undefined);
  assert.equal(outputSize(570, { depth: 4, padding: 'valid' }), undefined);
  assert.equal(outputSize(40, { depth: 2, padding: 'valid' }), undefined);
  assert.equal(outputSize(100, { depth: 3, padding: 'same' }), undefined);
});

test('every listed valid size round-trips through outputSize and nothing between them is valid', () => {
  for (const depth of [0, 1, 2, 3, 4, 5]) {
    for (const padding of ['valid', 'same'] as const) {
      const sizes = validSizes({ depth, padding }, 700);
      assert.ok(sizes.length > 0, `depth ${depth} ${padding} has valid sizes`);
      const valid = new Set(sizes.map((s) => s.input));
      for (let n = 1; n <= 700; n++) {
        const out = outputSize(n, { depth, padding });
        assert.equal(out !== undefined, valid.has(n), `depth ${depth} ${padding} input ${n}`);
      }
      for (const s of sizes) assert.equal(outputSize(s.input, { depth, padding }), s.output);
    }
  }
});

test('same padding keeps the size and needs a multiple of 2^depth', () => {
  assert.equal(outputSize(256, { depth: 4, padding: 'same' }), 256);
  assert.deepEqual(validSizes({ depth: 3, padding: 'same' }, 24), [
    { input: 8, output: 8 },
    { input: 16, output: 16 },
    { input: 24, output: 24 },
  ]);
});

test('an impossible size is refused with the nearest valid sizes named', () => {
  assert.deepEqual(nearestValid(570, { depth: 4, padding: 'valid' }), {
    below: { input: 556, output: 372 },
    above: { input: 572, output: 388 },
  });
  assert.throws(() => sizeMap(570, { depth: 4, padding: 'valid' }), /cannot take a 570 px tile; nearest valid: 556 \(-> 372\) or 572 \(-> 388\)/);
  assert.throws(() => sizeMap(10, { depth: 4, padding: 'valid' }), /nearest valid: 188 \(-> 4\)$/);
  assert.deepEqual(sizeMap(572, { depth: 4, padding: 'valid' }), { input: 572, output: 388 });
});

test('bands of a valid tile own every output row once, start on the pooling grid and have valid sizes', () => {
  for (const depth of [1, 2, 3, 4]) {
    const shape = { depth, padding: 'valid' } as const;
    for (const { input, output } of validSizes(shape, 700).filter((_, i) => i % 3 === 0)) {
      for (const parts of [1, 2, 3, 4, 7]) {
        const list = bands(input, shape, parts);
        assert.ok(list.length >= 1 && list.length <= parts);
        let next = 0;
        for (const b of list) {
          assert.equal(b.ownTop, next, `depth ${depth} ${input}/${parts}: rows owned in order`);
          next += b.ownRows;
          assert.equal(b.inputTop % 2 ** depth, 0);
          assert.equal(b.inputTop, b.outputTop);
          assert.equal(outputSize(b.inputRows, shape), b.outputRows);
          assert.ok(b.ownRows >= 1 && b.ownRows <= b.outputRows);
          assert.ok(b.inputTop + b.inputRows <= input);
        }
        assert.equal(next, output);
      }
    }
  }
  assert.deepEqual(bands(572, { depth: 4, padding: 'valid' }, 2).map((b) => [b.inputTop, b.inputRows, b.ownRows]), [[0, 380, 192], [192, 380, 196]]);
  assert.equal(bands(64, { depth: 2, padding: 'same' }, 4).length, 1);
});
