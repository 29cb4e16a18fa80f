import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { float16Bits, fromFloat16Bits, toFloat16 } from '../../src/model/float16.js';

test('float16 encoding is exact for representable values and rounds half to even', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [0.5, 0x3800],
    [2 ** -24, 0x0001], [2 ** -14, 0x0400], [1e6, 0x7c00], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: up
  ];
  for (const [value, bits] of cases) assert.equal(float16Bits(value), bits, `${value}`);
  assert.ok(Number.isNaN(fromFloat16Bits(float16Bits(NaN))));
});

test('every float16 value survives a round trip, and nearest rounding has half-ulp error', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const v = fromFloat16Bits(bits);
    if (Number.isNaN(v)) continue;
    assert.equal(float16Bits(v), bits === 0x8000 ? 0x8000 : bits);
  }
  for (const v of [0.1, -3.14159, 123.456, 1e-5, 0.000061]) {
    const back = fromFloat16Bits(float16Bits(v));
    assert.ok(Math.abs(back - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} -> ${back}`);
  }
});

test("tfjs's weight decoder reads our float16 weights back", async () => {
  const values = Float32Array.from([0.1, -0.25, 3, 1e-3, -7.5, 0]);
  const bits = toFloat16(values);
  const specs = [{ name: 'w', shape: [2, 3], dtype: 'float32' as const, quantization: { dtype: 'float16' as const } }];
  const decoded = tf.io.decodeWeights(bits.buffer as ArrayBuffer, specs);
  const back = await decoded.w.data();
  tf.dispose(decoded);
  assert.deepEqual(Array.from(back), Array.from(bits, fromFloat16Bits));
});
