import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { classWeightValues, separateTouching, weightMap, type WeightMapOptions } from '../../src/kernels/weight-map.js';
import { crop } from '../../src/kernels/mirror.js';
import { makeImage } from '../../src/image/image.js';
import { readImage } from '../../src/io/read.js';

// Made by fixtures/golden/make_golden.py: scipy distance_transform_edt per instance + np.sort.
const golden = JSON.parse(readFileSync(new URL('../../fixtures/golden/weight-map.json', import.meta.url), 'utf8'));

const u16 = (width: number, height: number, values: ArrayLike<number>) => makeImage(width, height, 1, 'uint16', Uint16Array.from(values));

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Equation 2 straight from the definition: every pixel against every pixel of every instance. */
function bruteForce(ids: ArrayLike<number>, width: number, height: number, o: Required<Omit<WeightMapOptions, 'input' | 'connectivity' | 'gap'>>) {
  const size = width * height;
  let fg = 0;
  for (let i = 0; i < size; i++) if (ids[i]) fg++;
  const [wb, wf] = classWeightValues(size - fg, fg, o.classWeights);
  return Float64Array.from({ length: size }, (_, p) => {
    const best = new Map<number, number>();
    for (let q = 0; q < size; q++) {
      if (!ids[q]) continue;
      const d = Math.hypot(Math.floor(p / width) - Math.floor(q / width), (p % width) - (q % width));
      if (!(best.get(ids[q])! <= d)) best.set(ids[q], d);
    }
    const [d1, d2] = [...best.values()].sort((a, b) => a - b);
    const wc = ids[p] ? wf : wb;
    if (d2 === undefined || (o.border === 'background' && ids[p])) return wc;
    return wc + o.w0 * Math.exp(-((d1 + d2) ** 2) / (2 * o.sigma ** 2));
  });
}

test('agrees with the scipy reference on touching instances and on a binary label (golden, 1e-5)', () => {
  const inst = golden.instances;
  const a = weightMap(u16(inst.width, inst.height, inst.label.flat()), { input: 'instances' });
  assert.equal(a.instances, 6);
  assert.ok(maxDiff(a.weights.data, inst.weights.flat()) < 1e-5);
  const bin = golden.binary;
  const b = weightMap(makeImage(bin.width, bin.height, 1, 'uint8', Uint8Array.from(bin.label.flat())));
  assert.equal(b.instances, bin.components);
  assert.ok(maxDiff(b.weights.data, bin.weights.flat()) < 1e-5);
});

test('agrees with a brute-force reference on random instance labels, for every option', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 12 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 144, maxLength: 144 }),
      fc.record({
        w0: fc.double({ min: 0, max: 20, noNaN: true }),
        sigma: fc.double({ min: 0.5, max: 10, noNaN: true }),
        classWeights: fc.constantFrom('balanced' as const, 'frequent-one' as const, 'none' as const, [0.5, 2] as const),
        border: fc.constantFrom('background' as const, 'all' as const),
      }),
      (width, height, values, options) => {
        const ids = values.slice(0, width * height).map((v) => (v < 2 ? 0 : v)); // about half background
        const out = weightMap(u16(width, height, ids), { ...options, input: 'instances' });
        const expected = bruteForce(ids, width, height, options);
        assert.ok(maxDiff(out.weights.data, expected) < 1e-5 * (1 + options.w0));
      },
    ),
    { numRuns: 150 },
  );
});

test('matches scipy\'s one distance transform per cell on a crop of an ISBI label (golden, 1e-5)', async () => {
  // Made by test/golden/weight-map.py: scipy.ndimage.label + distance_transform_edt per cell, w0 10, sigma 5, balanced.
  const isbi = JSON.parse(readFileSync(new URL('../golden/weight-map.json', import.meta.url), 'utf8'));
  const { x, y, width, height } = isbi.crop;
  const bits = Buffer.from(isbi.label, 'base64');
  const label = makeImage(width, height, 1, 'uint8', Uint8Array.from({ length: width * height }, (_, i) => ((bits[i >> 3] >> (7 - (i & 7))) & 1) * 255));
  const read = crop(await readImage('../shared/data/isbi2012/train/label/00.png'), { x, y, width, height });
  assert.deepEqual(read.data, label.data, 'the crop the golden file was made from is the one unetflow reads');
  const bytes = Buffer.from(isbi.weights, 'base64');
  const expected = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const ours = weightMap(label);
  assert.equal(ours.instances, isbi.cells);
  // Both float32; they were equal when the golden file was made (scipy 1.17.1): 1e-5 leaves room for other platforms.
  assert.ok(maxDiff(ours.weights.data, expected) < 1e-5, `max difference ${maxDiff(ours.weights.data, expected)}`);
});

test('class weights: balanced has mean 1, frequent-one gives the majority 1, explicit values are used as they are', () => {
  assert.deepEqual(classWeightValues(75, 25, 'balanced'), [100 / 150, 100 / 50]);
  assert.deepEqual(classWeightValues(75, 25, 'frequent-one'), [1, 3]);
  assert.deepEqual(classWeightValues(75, 25, 'none'), [1, 1]);
  assert.deepEqual(classWeightValues(75, 25, [0.2, 4]), [0.2, 4]);
  const label = u16(4, 2, [0, 0, 0, 1, 0, 0, 0, 0]);
  const w = weightMap(label, { input: 'instances' }).weights.data;
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) / 8 - 1) < 1e-6);
});

test('a label without cells, or with a single cell, gets the class weights alone — never NaN or Infinity', () => {
  for (const label of [u16(5, 4, new Array(20).fill(0)), u16(5, 4, new Array(20).fill(255)), u16(3, 1, [0, 9, 0])]) {
    for (const border of ['background', 'all'] as const) {
      const { weights, instances } = weightMap(label, { border });
      assert.ok(instances <= 1);
      assert.ok(weights.data.every((v) => Number.isFinite(v)));
    }
  }
  assert.ok(weightMap(u16(5, 4, new Array(20).fill(0))).weights.data.every((v) => v === 1));
  assert.deepEqual(Array.from(weightMap(u16(3, 1, [0, 9, 0])).weights.data), [0.75, 1.5, 0.75]);
});

test('binary instances are 4-connected components by default; 8 joins diagonal neighbours', () => {
  // Two cells touching at a corner: two instances under 4-connectivity, one under 8.
  const label = makeImage(4, 2, 1, 'uint8', Uint8Array.from([255, 255, 0, 0, 0, 0, 255, 255]));
  assert.equal(weightMap(label).instances, 2);
  assert.ok(weightMap(label).weights.data[2] > 2, 'the gap between them gets a border weight');
  assert.equal(weightMap(label, { connectivity: 8 }).instances, 1);
});

test('bad labels are refused with a message that says what was found', () => {
  const threeLevels = makeImage(3, 1, 1, 'uint8', Uint8Array.from([0, 128, 255]));
  assert.throws(() => weightMap(threeLevels), /one foreground value, found 0, 128, 255 — for instance ids use input: 'instances'/);
  assert.throws(() => weightMap(makeImage(2, 1, 1, 'float32', Float32Array.from([0, NaN]))), /found/);
  assert.throws(() => weightMap(makeImage(2, 1, 1, 'float32', Float32Array.from([0, 1.5])), { input: 'instances' }), /integer ids, found 1.5/);
  assert.throws(() => weightMap(makeImage(2, 1, 3, 'uint8')), /label must have 1 channel, got 3/);
  assert.throws(() => weightMap(u16(2, 1, [0, 1]), { sigma: 0 }), /sigma/);
  assert.throws(() => weightMap(u16(2, 1, [0, 1]), { classWeights: [1, Infinity] }), /class weights/);
});

test('gap separates touching instances by one background pixel and returns the changed label', () => {
  // Instances 1 and 2 share an edge, 2 and 3 a corner; 4 touches nothing.
  const rows = ['1122....', '1122....', '....3..4', '....3...'];
  const ids = rows.join('').split('').map((c) => (c === '.' ? 0 : Number(c)));
  const label = u16(8, 4, ids);
  const { label: gapped, instances } = weightMap(label, { input: 'instances', gap: true });
  assert.equal(instances, 4);
  // 1 loses its column beside 2, and 2 its corner pixel beside 3.
  const expected = ['1.22....', '1.2.....', '....3..4', '....3...'].join('');
  assert.equal(Array.from(gapped.data, (v) => (v === 0 ? '.' : String(v))).join(''), expected);
  // No two different instances stay 8-adjacent.
  const out = Int32Array.from(gapped.data);
  assert.equal(separateTouching(out, 8, 4), out);
  assert.equal(weightMap(label, { input: 'instances' }).label, label, 'without gap the label is passed through');
});
