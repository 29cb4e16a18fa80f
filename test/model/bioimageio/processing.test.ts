import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toFloat32, type Normalisation } from '../../../src/image/convert.js';
import { makeImage } from '../../../src/image/image.js';
import { preprocessingFor } from '../../../src/model/bioimageio/normalisation.js';
import { applyProcessing, prepareProcessing, type NamedTensor } from '../../../src/model/bioimageio/processing.js';

const close = (actual: ArrayLike<number>, expected: readonly number[], tol = 1e-6) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}]: ${actual[i]} vs ${expected[i]}`);
};
// batch 1, channel 2, y 1, x 2: channel 0 = [1, 3], channel 1 = [10, 30].
const x: NamedTensor = { data: Float32Array.of(1, 3, 10, 30), shape: [1, 2, 1, 2], axes: ['batch', 'channel', 'y', 'x'] };

test('zero_mean_unit_variance over y and x normalises each channel with its own mean and population std', () => {
  const y = applyProcessing([{ id: 'zero_mean_unit_variance', kwargs: { axes: ['batch', 'y', 'x'] } }], x, 't');
  // channel 0: mean 2, std 1; channel 1: mean 20, std 10; eps 1e-6 in the denominator.
  close(y.data, [-1 / (1 + 1e-6), 1 / (1 + 1e-6), -10 / (10 + 1e-6), 10 / (10 + 1e-6)]);
  const all = applyProcessing([{ id: 'zero_mean_unit_variance' }], x, 't'); // default: all axes jointly
  const mean = 11;
  const std = Math.sqrt(((1 - mean) ** 2 + (3 - mean) ** 2 + (10 - mean) ** 2 + (30 - mean) ** 2) / 4);
  close(all.data, [1, 3, 10, 30].map((v) => (v - mean) / (std + 1e-6)), 1e-6);
});

test('scale_range maps the percentiles to 0 and 1 (numpy linear percentiles), clip and scale_linear per channel', () => {
  const y = applyProcessing([{ id: 'scale_range', kwargs: { axes: ['y', 'x'], min_percentile: 0, max_percentile: 100 } }], x, 't');
  close(y.data, [0, 2 / (2 + 1e-6), 0, 20 / (20 + 1e-6)]);
  const p = applyProcessing([{ id: 'scale_range', kwargs: { min_percentile: 25, max_percentile: 75 } }], x, 't');
  // sorted 1, 3, 10, 30: 25th = 1 + 0.75 * 2 = 2.5, 75th = 10 + 0.25 * 20 = 15.
  close(p.data, [1, 3, 10, 30].map((v) => (v - 2.5) / (12.5 + 1e-6)));
  close(applyProcessing([{ id: 'clip', kwargs: { min: 2, max: 12 } }], x, 't').data, [2, 3, 10, 12]);
  close(applyProcessing([{ id: 'clip', kwargs: { min_percentile: 25, max_percentile: 75 } }], x, 't').data, [2.5, 3, 10, 15]);
  close(applyProcessing([{ id: 'scale_linear', kwargs: { axis: 'channel', gain: [2, 0.5], offset: [1, -1] } }], x, 't').data, [3, 7, 4, 14]);
  close(applyProcessing([{ id: 'fixed_zero_mean_unit_variance', kwargs: { mean: 1, std: 2 } }], x, 't').data, [0, 1, 4.5, 14.5].map((v) => (v * 2) / (2 + 1e-6)));
});

test('sigmoid, softmax along the channel axis, binarize and ensure_dtype', () => {
  close(applyProcessing([{ id: 'sigmoid' }], x, 't').data, [1, 3, 10, 30].map((v) => 1 / (1 + Math.exp(-v))));
  const s = applyProcessing([{ id: 'softmax' }], x, 't').data;
  close(s, [1 / (1 + Math.exp(9)), 1 / (1 + Math.exp(27)), 1 / (1 + Math.exp(-9)), 1 / (1 + Math.exp(-27))]);
  close(applyProcessing([{ id: 'binarize', kwargs: { threshold: 3 } }], x, 't').data, [0, 0, 1, 1]);
  close(applyProcessing([{ id: 'binarize', kwargs: { threshold: [0, 20], axis: 'channel' } }], x, 't').data, [1, 1, 0, 1]);
  close(applyProcessing([{ id: 'ensure_dtype', kwargs: { dtype: 'uint8' } }], { ...x, data: Float32Array.of(-3, 2.7, 300, 5) }, 't').data, [0, 2, 255, 5]);
});

test('statistics of a whole image apply unchanged to a tile of it, broadcast over the tiles of a batch', () => {
  const whole: NamedTensor = { data: Float32Array.of(0, 2, 4, 6), shape: [1, 2, 2, 1], axes: ['batch', 'y', 'x', 'channel'] };
  const f = prepareProcessing([{ id: 'zero_mean_unit_variance', kwargs: { axes: ['y', 'x'] } }], whole, 't');
  const tiles: NamedTensor = { data: Float32Array.of(0, 6), shape: [2, 1, 1, 1], axes: ['batch', 'y', 'x', 'channel'] };
  const std = Math.sqrt(5); // of 0, 2, 4, 6 around 3
  close(f(tiles).data, [-3 / (std + 1e-6), 3 / (std + 1e-6)]);
});

test('an unknown operation is an error naming it and the operations unetflow runs', () => {
  assert.throws(() => applyProcessing([{ id: 'scale_mean_variance', kwargs: {} }], x, 'pkg: raw.preprocessing'), /pkg: raw\.preprocessing\[0\] scale_mean_variance: unetflow does not run the operation 'scale_mean_variance'; it runs ensure_dtype, scale_range, .*binarize/);
});

test("the exported preprocessing gives the network what the model's own normalisation gives it", () => {
  const data = Uint16Array.from({ length: 64 }, (_, i) => (i * 977) % 4096);
  const image = makeImage(8, 8, 1, 'uint16', data);
  const bytes = makeImage(8, 8, 1, 'uint8', Uint8Array.from(data, (v) => v % 256));
  const cases: [Normalisation, typeof image | typeof bytes][] = [
    [{ method: 'dtype' }, image],
    [{ method: 'dtype' }, bytes],
    [{ method: 'none' }, image],
    [{ method: 'minmax' }, image],
    [{ method: 'percentile', low: 2, high: 98 }, image],
    [{ method: 'range', min: 100, max: 3000 }, image],
  ];
  for (const [normalisation, img] of cases) {
    const tensor: NamedTensor = { data: Float32Array.from(img.data), shape: [1, 1, 8, 8], axes: ['batch', 'channel', 'y', 'x'] };
    const exported = applyProcessing(preprocessingFor(normalisation, img.dtype), tensor, 't').data;
    close(exported, [...toFloat32(img, normalisation).data], 1e-6);
  }
});
