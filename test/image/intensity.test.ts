import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntensitySampler, describeSummary, intensityMismatch, sampleValues, summarise } from '../../src/image/intensity.js';
import { makeImage } from '../../src/image/image.js';
import { pixels } from '../helpers/images.js';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

test('summarise gives numpy\'s 1st and 99.8th percentiles and the mean', () => {
  // numpy.percentile(numpy.arange(1000), [1, 99.8]) = [9.99, 997.002]
  const s = summarise(ramp(1000).reverse());
  assert.ok(Math.abs(s.low - 9.99) < 1e-9 && Math.abs(s.high - 997.002) < 1e-9, JSON.stringify(s));
  assert.equal(s.mean, 499.5);
});

test('the sampler is exact while the values fit, whatever the chunks they come in', () => {
  const sampler = new IntensitySampler(4096);
  for (let i = 0; i < 1000; i += 7) sampler.add(ramp(1000).subarray(i, i + 7));
  assert.deepEqual(sampler.summary(), { ...summarise(ramp(1000)), values: 1000 });
  assert.equal(new IntensitySampler().summary(), undefined);
});

test('past its capacity the sampler keeps every stride-th value and the exact mean', () => {
  // Capacity 8 over 0..99: the stride doubles to 16, keeping 0, 16, ..., 96.
  const whole = new IntensitySampler(8);
  whole.add(ramp(100));
  const kept = summarise([0, 16, 32, 48, 64, 80, 96]);
  assert.deepEqual(whole.summary(), { low: kept.low, high: kept.high, mean: 49.5, values: 100 });
  const chunked = new IntensitySampler(8);
  for (let i = 0; i < 100; i += 13) chunked.add(ramp(100).subarray(i, i + 13));
  assert.deepEqual(chunked.summary(), whole.summary());
});

test('sampleValues takes every k-th value and keeps the dtype and source type', () => {
  const image = makeImage(5, 2, 1, 'float32', ramp(10), 'int16');
  const sample = sampleValues(image, 4);
  assert.deepEqual([pixels(sample), sample.dtype, sample.sourceType], [[0, 3, 6, 9], 'float32', 'int16']);
  assert.deepEqual(pixels(sampleValues(image, 100)), pixels(image));
});

test('an input is far from the trained intensities when its spread or its mean is off', () => {
  const trained = { low: 0.2, high: 0.9, mean: 0.55 };
  assert.equal(intensityMismatch({ low: 0.25, high: 0.85, mean: 0.5 }, trained), undefined);
  assert.equal(intensityMismatch({ low: 0.3, high: 0.475, mean: 0.4 }, trained), undefined, 'a quarter of the spread is still near');
  // 0-235 of a 16-bit range under dtype normalisation.
  assert.match(intensityMismatch({ low: 0, high: 235 / 65535, mean: 0.001 }, trained)!, /spread is 0\.512% of the trained one \(under a quarter\)/);
  assert.match(intensityMismatch({ low: 0, high: 200, mean: 80 }, trained)!, /spread is 286 times the trained one \(over four\)/);
  assert.match(intensityMismatch({ low: 0.6, high: 1.2, mean: 1 }, trained)!, /mean lies above the trained 1st-99.8th percentile range/);
  assert.match(intensityMismatch({ low: -0.5, high: 0.1, mean: -0.2 }, trained)!, /mean lies below/);
  assert.equal(describeSummary({ low: 0.123456, high: 0.98765, mean: 0.5 }), '0.123-0.988, mean 0.5');
});

test('a model trained on constant input is compared by the mean alone', () => {
  const flat = { low: 0.5, high: 0.5, mean: 0.5 };
  assert.equal(intensityMismatch({ low: 0.4, high: 0.6, mean: 0.5 }, flat), undefined);
  assert.match(intensityMismatch({ low: 0.7, high: 0.9, mean: 0.8 }, flat)!, /mean lies above/);
});
