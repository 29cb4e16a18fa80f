import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractChannel, quantile, toFloat32, toGrey, toInteger } from '../../src/image/convert.js';
import { makeImage, nonFinite } from '../../src/image/image.js';
import { pixels } from '../helpers/images.js';

const u16 = makeImage(4, 1, 1, 'uint16', Uint16Array.from([0, 100, 200, 65535]));

test('none keeps the values and dtype maps the integer range to [0, 1]', () => {
  assert.deepEqual(pixels(toFloat32(u16)), [0, 100, 200, 65535]);
  assert.deepEqual(pixels(toFloat32(u16, { method: 'dtype' })), [0, 100 / 65535, 200 / 65535, 1].map(Math.fround));
});

test('minmax maps the image range to [0, 1] and a constant image to 0', () => {
  // A narrow range, far from the dtype's: dtype scaling would give about 0.015-0.023 here.
  const narrow = makeImage(4, 1, 1, 'uint16', Uint16Array.from([1000, 1100, 1300, 1500]));
  assert.deepEqual(pixels(toFloat32(narrow, { method: 'minmax' })), [0, 0.2, 0.6, 1].map(Math.fround));
  const dim = makeImage(3, 1, 1, 'uint8', Uint8Array.from([40, 50, 60]));
  assert.deepEqual(pixels(toFloat32(dim, { method: 'minmax' })), [0, 0.5, 1]);
  const flat = makeImage(2, 1, 1, 'uint8', Uint8Array.from([7, 7]));
  assert.deepEqual(pixels(toFloat32(flat, { method: 'minmax' })), [0, 0]);
});

test('percentile normalisation clips outliers (an 8-bit range in a 16-bit image included)', () => {
  const data = Uint16Array.from({ length: 101 }, (_, i) => i);
  data[100] = 60000; // a hot pixel
  const image = makeImage(101, 1, 1, 'uint16', data);
  const out = toFloat32(image, { method: 'percentile', low: 0, high: 99 });
  assert.equal(out.data[0], 0);
  assert.equal(out.data[99], 1);
  assert.equal(out.data[100], 1);
  assert.ok(Math.abs(out.data[50] - 50 / 99) < 1e-6);
  assert.throws(() => toFloat32(image, { method: 'percentile', low: 50, high: 10 }), /0 <= low < high <= 100/);
});

test('range normalisation uses fixed bounds and clips', () => {
  assert.deepEqual(pixels(toFloat32(u16, { method: 'range', min: 100, max: 200 })), [0, 0, 1, 1]);
});

test('quantile interpolates linearly like numpy', () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
});

test('toInteger rounds and clamps without rescaling unless asked', () => {
  const f = makeImage(4, 1, 1, 'float32', Float32Array.from([-3, 0.4, 0.6, 300]));
  assert.deepEqual(pixels(toInteger(f, 'uint8')), [0, 0, 1, 255]);
  assert.deepEqual(pixels(toInteger(f, 'uint16', 2)), [0, 1, 1, 600]);
});

test('toGrey uses BT.601 luma and extractChannel picks one channel', () => {
  const rgb = makeImage(1, 1, 3, 'uint8', Uint8Array.from([255, 0, 0]));
  assert.deepEqual(pixels(toGrey(rgb)), [76]);
  assert.deepEqual(pixels(extractChannel(rgb, 0)), [255]);
  assert.throws(() => extractChannel(rgb, 3), /channel 3 does not exist/);
});

test('makeImage refuses data of the wrong length or type', () => {
  assert.throws(() => makeImage(2, 2, 1, 'uint8', new Uint8Array(3)), /3 values, expected 2x2x1 = 4/);
  assert.throws(() => makeImage(2, 2, 1, 'uint8', new Uint16Array(4) as unknown as Uint8Array), /must be a Uint8Array/);
});

test('dtype maps an image read from a signed or 32-bit file by its source type, as scikit-image does', () => {
  const i16 = makeImage(3, 1, 1, 'float32', Float32Array.from([-32767, 0, 32767]), 'int16');
  assert.deepEqual(pixels(toFloat32(i16, { method: 'dtype' })), [-1, 0, 1]);
  const u32 = makeImage(2, 1, 1, 'float32', Float32Array.from([0, 4294967295]), 'uint32');
  assert.deepEqual(pixels(toFloat32(u32, { method: 'dtype' })), [0, 1]);
  const i8 = makeImage(2, 1, 1, 'float32', Float32Array.from([-127, 127]), 'int8');
  assert.deepEqual(pixels(toFloat32(i8, { method: 'dtype' })), [-1, 1]);
  const plain = makeImage(2, 1, 1, 'float32', Float32Array.from([-3, 4000]));
  assert.deepEqual(pixels(toFloat32(plain, { method: 'dtype' })), [-3, 4000], 'float data is taken as already in range');
});

test('conversions that keep the values keep the source type and those that change them drop it', () => {
  const i16 = makeImage(2, 1, 3, 'float32', Float32Array.from([1, 2, 3, 4, 5, 6]), 'int16');
  assert.equal(toFloat32(i16).sourceType, 'int16');
  assert.equal(toGrey(i16).sourceType, 'int16');
  assert.equal(extractChannel(i16, 1).sourceType, 'int16');
  assert.equal(toFloat32(i16, { method: 'dtype' }).sourceType, undefined);
  assert.equal(toFloat32(i16, { method: 'minmax' }).sourceType, undefined);
  assert.ok(!('sourceType' in toInteger(i16, 'uint16')));
  assert.throws(() => makeImage(1, 1, 1, 'uint16', undefined, 'int16'), /only float32 data can carry a source type/);
});

test('nonFinite counts NaN and infinite values', () => {
  const image = makeImage(3, 2, 1, 'float32', Float32Array.from([NaN, 1, Infinity, -Infinity, NaN, NaN]));
  assert.deepEqual(nonFinite(image), { nan: 3, infinite: 2 });
  assert.deepEqual(nonFinite(u16), { nan: 0, infinite: 0 });
});
